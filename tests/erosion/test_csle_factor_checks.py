"""A factor or soil loss that is negative, NaN or infinite on a cell with data stops the run (never a grade);
the K correction's clipped cells and the station-R range warnings reach summary.json."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio

from shuibao.errors import FactorError, InputError
from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, compute_csle, run_csle, validate_csle


def inputs(scene, **over):
    base = dict(dem=scene / "dem.tif", landuse=scene / "landuse.tif", ndvi=scene / "ndvi.tif",
                rain=scene / "rain.csv", soil=scene / "soil.tif", soil_table=scene / "soil.csv")
    base.update(over)
    return CsleInputs(**base)


def first_valid_cell(scene):
    with rasterio.open(scene / "dem.tif") as src:
        valid = src.read_masks(1) > 0
        transform = src.transform
    rows, cols = np.nonzero(valid)
    r, c = int(rows[0]), int(cols[0])  # row-major: the first one the scan meets
    x, y = transform * (c + 0.5, r + 0.5)
    return r, c, x, y


def test_nan_k_inside_the_dem_is_an_error_with_its_location(scene_dir, tmp_path):
    data = validate_csle(inputs(scene_dir), CsleParams())
    shape = data["dem"].grid.shape
    r, c, x, y = first_valid_cell(scene_dir)
    k = np.full(shape, 0.03, np.float32)
    k[r, c] = np.nan
    data["k"] = SimpleNamespace(data=k)
    with pytest.raises(FactorError) as err:
        compute_csle(data, tmp_path / "o", CsleParams())
    msg = str(err.value)
    assert msg.startswith("K: 1 cell(s)") and "1 NaN" in msg and f"row {r}, column {c}" in msg
    assert f"x {x:.1f}, y {y:.1f}" in msg and "Nothing was graded" in msg
    assert not (tmp_path / "o" / "grade.tif").exists()
    assert isinstance(err.value, InputError)  # the CLI's exit 2


def test_infinite_r_is_an_error(scene_dir, tmp_path):
    data = validate_csle(inputs(scene_dir), CsleParams())
    r = np.full(data["dem"].grid.shape, 5000.0, np.float32)
    r[data["dem"].valid] = np.inf
    data["r"] = SimpleNamespace(data=r)
    with pytest.raises(FactorError, match=r"^R: \d+ cell\(s\) .*infinite"):
        compute_csle(data, tmp_path / "o", CsleParams())


def test_negative_k_raster_is_refused_before_computing(scene_dir, tmp_path):
    with rasterio.open(scene_dir / "dem.tif") as src:
        profile, shape = src.profile, src.shape
    k = np.full(shape, 0.02, np.float32)
    k[shape[0] // 2, shape[1] // 2] = -0.005
    profile.update(dtype="float32", nodata=None)
    with rasterio.open(tmp_path / "k.tif", "w", **profile) as dst:
        dst.write(k, 1)
    with pytest.raises(InputError, match="K: .*k.tif has values -0.005"):
        run_csle(inputs(scene_dir, soil=None, soil_table=None, k=tmp_path / "k.tif"), tmp_path / "o", CsleParams())


def soil_codes(scene):
    with open(scene / "soil.csv", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_clipped_k_cells_are_counted_in_the_summary(scene_dir, tmp_path):
    rows = soil_codes(scene_dir)
    code = int(rows[0]["code"])
    table = tmp_path / "soil.csv"
    with open(table, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for row in rows:
            if int(row["code"]) == code:  # no silt: K_EPIC = 0, corrected K < 0
                row = {**row, "sand_pct": "50", "silt_pct": "0", "clay_pct": "50"}
            w.writerow(row)
    with rasterio.open(scene_dir / "soil.tif") as s, rasterio.open(scene_dir / "dem.tif") as d:
        expected = int(np.count_nonzero((s.read(1) == code) & (d.read_masks(1) > 0)))
    assert expected > 0
    summary = run_csle(inputs(scene_dir, soil_table=table), tmp_path / "o", CsleParams(k_correction=True))
    assert summary["k_clipped_cells"] == expected
    assert any(w.startswith(f"K: the Chinese correction gave negative K on {expected} cell") for w in summary["warnings"])
    with rasterio.open(tmp_path / "o" / "k_factor.tif") as src:
        assert np.nanmin(src.read(1)) == 0.0
    on_disk = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert on_disk["k_clipped_cells"] == expected


def test_station_r_outside_the_range_is_a_warning_not_an_error(scene_dir, tmp_path):
    shipped = (scene_dir.parent / "r_model_narrow.csv")
    lines = ["parameter,value,source"]
    from shuibao.erosion.tables import r_model
    for k, v in r_model().items():
        if k == "range_low":
            v = 1.0
        if k == "range_high":
            v = 2.0  # every station's R lies above
        lines.append(f"{k},{v},test")
    shipped.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_csle(inputs(scene_dir, r_model=shipped), tmp_path / "o", CsleParams())
    r_warnings = [w for w in summary["warnings"] if w.startswith("R: station")]
    assert len(r_warnings) == len(summary["stations"]) > 0 and summary["grades"] is not None


def test_unknown_r_model_is_reported(scene_dir, tmp_path):
    with pytest.raises(InputError, match="R: unknown model 'fournier'"):
        run_csle(inputs(scene_dir), tmp_path / "o", CsleParams(r_model="fournier"))
