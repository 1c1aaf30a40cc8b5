"""Change detection of construction disturbance: index kernels, cleaning, the service and its CLI command."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import rasterio
import shapely
import typer
from rasterio.transform import from_origin
from typer.testing import CliRunner

from shuibao.cli.supervise_detect import detect
from shuibao.core.change import bare_soil_index, change_mask, clean_mask, label_means, ndvi
from shuibao.errors import InputError
from shuibao.io.vector import read_polygons, zone_labels
from shuibao.services.supervision.change_detection import FIELDS, BandOrder, DetectionParams, detect_changes
from shuibao.demo.change import make_change_scene, score

MIN_CELLS = 4  # the default 400 m² on the scene's 10 m cells


# --------------------------------------------------------------------------- kernels
def test_ndvi_on_hand_computed_pixels():
    red = np.array([0.1, 0.05, 0.0, 0.2, np.nan])
    nir = np.array([0.5, 0.45, 0.0, 0.2, 0.3])
    got = ndvi(red, nir)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[:2], [0.4 / 0.6, 0.4 / 0.5], rtol=1e-6)
    assert np.isnan(got[2])  # 0/0
    assert got[3] == 0.0
    assert np.isnan(got[4])


def test_bare_soil_index_four_and_three_band_forms():
    blue, red, nir, swir = (np.array([v, 0.0]) for v in (0.05, 0.1, 0.5, 0.3))
    # ((0.3 + 0.1) − (0.5 + 0.05)) / ((0.3 + 0.1) + (0.5 + 0.05)) = −0.15 / 0.95
    np.testing.assert_allclose(bare_soil_index(red, nir, swir, blue)[0], -0.15 / 0.95, rtol=1e-6)
    # without blue: (0.4 − 0.5) / (0.4 + 0.5)
    np.testing.assert_allclose(bare_soil_index(red, nir, swir)[0], -0.1 / 0.9, rtol=1e-6)
    assert np.isnan(bare_soil_index(red, nir, swir, blue)[1])  # all bands zero


def test_change_mask_needs_both_an_ndvi_drop_and_a_bsi_rise():
    # cells: clear case, exactly at both thresholds, drop only, rise only, NaN after, regrowth
    ndvi_b = np.array([[0.75, 0.5, 0.75, 0.5, 0.75, 0.25]])
    ndvi_a = np.array([[0.25, 0.25, 0.25, 0.5, np.nan, 0.75]])
    bsi_b = np.array([[0.0, 0.0, 0.0, 0.0, 0.0, 0.25]])
    bsi_a = np.array([[0.25, 0.125, 0.0, 0.5, 0.5, 0.0]])
    got = change_mask(ndvi_b, ndvi_a, bsi_b, bsi_a, t_ndvi=0.25, t_bsi=0.125)
    assert got.tolist() == [[True, True, False, False, False, False]]
    floored = change_mask(ndvi_b, ndvi_a, bsi_b, bsi_a, t_ndvi=0.25, t_bsi=0.125, min_ndvi_before=0.6)
    assert floored.tolist() == [[True, False, False, False, False, False]]  # 0.5 before: not vegetated enough


def _blobs() -> np.ndarray:
    m = np.zeros((30, 30), bool)
    m[2:10, 2:10] = True  # 8×8 block ...
    m[5, 5] = False  # ... with a pinhole (3 cells in: 3×3 squares around it still fit)
    m[20:22, 20:22] = True  # 2×2 blob
    m[25, 5] = True  # isolated cell
    m[15, 10:20] = True  # line one cell wide
    m[20:23, 5:8] = True  # 3×3 block
    return m


def test_clean_mask_removes_speckle_lines_and_small_blobs_and_fills_pinholes():
    labels = clean_mask(_blobs(), opening_cells=1, min_cells=10, footprint="square")
    assert labels.dtype == np.int32
    assert labels.max() == 1
    expected = np.zeros((30, 30), bool)
    expected[2:10, 2:10] = True  # the block, pinhole filled; everything else gone
    assert np.array_equal(labels == 1, expected)
    # the disk (cross) of radius 1 cannot reach a block's corner cells
    disk = clean_mask(_blobs(), opening_cells=1, min_cells=10, footprint="disk")
    assert disk.max() == 1 and (disk == 1).sum() == 64 - 4
    # min_cells is inclusive: the 3×3 block (9 cells) stays at 9, goes at 10
    kept = clean_mask(_blobs(), opening_cells=1, min_cells=9, footprint="square")
    assert kept.max() == 2 and sorted(np.bincount(kept.ravel())[1:].tolist()) == [9, 64]


def test_clean_mask_connectivity_and_validity():
    m = np.zeros((12, 12), bool)
    m[1:4, 1:4] = True
    m[4:7, 4:7] = True  # touches the first block at one corner only
    assert clean_mask(m, 1, 9, footprint="square", connectivity=8).max() == 1
    assert clean_mask(m, 1, 9, footprint="square", connectivity=4).max() == 2
    ring = np.zeros((9, 9), bool)
    ring[1:8, 1:8] = True
    ring[4, 4] = False
    valid = np.ones_like(ring)
    valid[4, 4] = False  # the hole is nodata: unknown, not filled
    labels = clean_mask(ring, 0, 1, valid=valid)
    assert labels[4, 4] == 0 and (labels > 0).sum() == 48
    valid[1, 1] = False  # a flagged cell without data is never part of a patch
    assert clean_mask(ring, 0, 1, valid=valid)[1, 1] == 0


def test_label_means_ignore_nan():
    labels = np.array([[1, 1, 2], [0, 2, 2]])
    values = np.array([[1.0, 3.0, np.nan], [100.0, 4.0, 6.0]])
    np.testing.assert_allclose(label_means(labels, values), [2.0, 5.0])


def test_score_on_hand_labels():
    truth = np.zeros((10, 10), np.int32)
    truth[0:4, 0:5] = 1  # 20 cells
    truth[6:9, 6:9] = 2  # 9 cells
    truth[9, 0] = 3  # 1 cell: below min_cells, not counted in recall
    det = np.zeros_like(truth)
    det[0:4, 0:4] = 1  # 16 of truth 1: IoU 16/20 = 0.8
    det[6:8, 6:7] = 2  # 2 of truth 2: IoU 2/9
    det[5, 0:3] = 3  # nothing there
    s = score(truth, det, min_cells=4)
    assert (s.truths, s.detections, s.matched_truths, s.matched_detections) == (2, 3, 1, 1)
    assert s.precision == pytest.approx(1 / 3) and s.recall == pytest.approx(1 / 2)
    assert s.pixel_precision == pytest.approx(18 / 21) and s.pixel_recall == pytest.approx(18 / 30)


# --------------------------------------------------------------------------- the synthetic scene
@pytest.fixture(scope="module")
def scene_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("change")
    scene = make_change_scene(folder, size=600, seed=0)
    result = detect_changes(scene.before, scene.after, folder / "patches.gpkg", params=DetectionParams())
    found = read_polygons(result.out, "patches", layer="patches")
    detected = zone_labels(found.geoms, found.crs, scene.grid)
    return scene, result, detected


def test_object_and_pixel_scores_on_the_synthetic_scene(scene_run):
    scene, result, detected = scene_run
    s = score(scene.truth_labels, detected, min_cells=MIN_CELLS)
    print(f"\nsynthetic 600×600: {s}")
    assert s.truths >= 25, s  # enough planted disturbances for the rates to mean something
    assert s.precision >= 0.9, s
    assert s.recall >= 0.9, s
    assert s.pixel_f1 >= 0.85, s
    assert result.patches == s.detections


def test_distractors_are_not_detected(scene_run):
    scene, _, detected = scene_run
    assert not (detected[scene.regrowth] > 0).any(), "a bare → crops field was flagged"
    rows, cols = scene.speckles[:, 0], scene.speckles[:, 1]
    assert len(rows) >= 5 and not (detected[rows, cols] > 0).any(), "a single-cell speckle survived"
    assert not (detected[scene.nodata] > 0).any(), "a nodata cell is in a patch"
    small = [i + 1 for i, n in enumerate(scene.truth_cells) if 0 < n < MIN_CELLS]
    assert small, "the scene should plant disturbances below the minimum area"
    for i in small:
        cover = (detected[scene.truth_labels == i] > 0).mean()
        assert cover < 0.5, f"planted disturbance {i} of {scene.truth_cells[i - 1]} cells was kept"


def test_geopackage_has_exactly_the_import_fields(scene_run):
    scene, result, _ = scene_run
    assert [name for name, _ in pyogrio.list_layers(result.out)] == ["patches"]
    info = pyogrio.read_info(result.out, layer="patches")
    assert list(info["fields"]) == list(FIELDS) == [
        "patch_id", "period", "image_date", "kind", "change_type", "area_m2", "cells", "d_ndvi_mean", "d_bsi_mean",
        "ndvi_before_mean", "ndvi_after_mean"]
    assert info["ogr_types"] == ["OFTString"] * 5 + ["OFTReal", "OFTInteger64"] + ["OFTReal"] * 4
    assert info["crs"] == "EPSG:4545" and info["geometry_type"] == "MultiPolygon"
    assert "SYNTHETIC" in info["layer_metadata"]["DESCRIPTION"]
    _, _, wkb, values = pyogrio.raw.read(result.out, layer="patches")
    col = dict(zip(info["fields"], values))
    n = len(wkb)
    assert n == result.patches > 0
    assert col["patch_id"].tolist() == [f"CD2024-09-{i:05d}" for i in range(1, n + 1)]
    assert set(col["image_date"]) == {scene.after_date.isoformat()} == {"2024-09-25"}  # from TIFFTAG_DATETIME
    assert set(col["period"]) == {"2024-09"} and set(col["kind"]) == {"其他扰动"} and set(col["change_type"]) == {"新增"}
    areas = shapely.area(shapely.from_wkb(wkb))
    np.testing.assert_allclose(col["area_m2"], areas)
    np.testing.assert_allclose(col["area_m2"], col["cells"] * 100.0)
    assert col["cells"].min() >= MIN_CELLS
    assert (col["d_ndvi_mean"] < 0).all() and (col["d_bsi_mean"] > 0).all()
    np.testing.assert_allclose(col["ndvi_after_mean"] - col["ndvi_before_mean"], col["d_ndvi_mean"], atol=2e-4)


def test_evidence_matches_ndvi_computed_here(scene_run):
    scene, result, detected = scene_run
    with rasterio.open(scene.before) as b, rasterio.open(scene.after) as a:
        rb, nb = b.read(1).astype(float), b.read(2).astype(float)
        ra, na = a.read(1).astype(float), a.read(2).astype(float)
    d = (na - ra) / (na + ra) - (nb - rb) / (nb + rb)
    _, _, _, values = pyogrio.raw.read(result.out, layer="patches", columns=["d_ndvi_mean"])
    for label in (1, result.patches // 2, result.patches):
        assert values[0][label - 1] == pytest.approx(np.nanmean(d[detected == label]), abs=1e-3)


def test_provenance_records_thresholds_and_input_checksums(scene_run):
    scene, result, _ = scene_run
    prov = json.loads(result.provenance.read_text(encoding="utf-8"))
    assert result.provenance.name == "patches.gpkg.provenance.json"
    for role, path in (("before", scene.before), ("after", scene.after)):
        assert prov["inputs"][role]["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert prov["params"]["t_ndvi"] == 0.2 and prov["params"]["t_bsi"] == 0.1 and prov["min_cells"] == 4
    assert prov["synthetic"] is True and prov["counts"]["patches"] == result.patches


# --------------------------------------------------------------------------- refusals
def _tif(path: Path, bands: np.ndarray, *, crs="EPSG:4545", transform=None, tags=None, nodata=None) -> Path:
    transform = transform or from_origin(400_000, 3_350_000, 10, 10)
    with rasterio.open(path, "w", driver="GTiff", height=bands.shape[1], width=bands.shape[2], count=bands.shape[0],
                       dtype=bands.dtype.name, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(bands)
        if tags:
            dst.update_tags(**tags)
    return path


def _pair(tmp_path: Path, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Forest before; a 6×6 block of soil after (rows/cols 5–10)."""
    before = np.empty((3, n, n), np.float32)
    before[:] = np.array([0.03, 0.33, 0.14], np.float32)[:, None, None]
    after = before.copy()
    after[:, 5:11, 5:11] = np.array([0.2, 0.26, 0.32], np.float32)[:, None, None]
    return before, after


def test_each_bad_input_names_its_file(tmp_path):
    before, after = _pair(tmp_path)
    good_b = _tif(tmp_path / "b.tif", before)
    good_a = _tif(tmp_path / "a.tif", after, tags={"TIFFTAG_DATETIME": "2024:05:01 00:00:00"})
    out = tmp_path / "p.gpkg"
    cases = {
        "grid": _tif(tmp_path / "shifted.tif", after, transform=from_origin(400_010, 3_350_000, 10, 10)),
        "band": _tif(tmp_path / "two.tif", after[:2]),
        "geographic": _tif(tmp_path / "geo.tif", after, crs="EPSG:4490", transform=from_origin(106, 30, 1e-4, 1e-4)),
        "does not exist": tmp_path / "missing.tif",
    }
    for words, bad in cases.items():
        with pytest.raises(InputError) as err:
            detect_changes(good_b, bad, out, image_date=date(2024, 5, 1))
        assert str(bad) in str(err.value) and words in str(err.value), str(err.value)
    with pytest.raises(InputError, match="--after-date"):  # no date tag, no argument
        detect_changes(good_b, _tif(tmp_path / "undated.tif", after), out)
    assert not out.exists()
    assert detect_changes(good_b, good_a, out).image_date == date(2024, 5, 1)  # the tag


def test_all_problems_in_one_error(tmp_path):
    before, after = _pair(tmp_path)
    geo_two = _tif(tmp_path / "geo2.tif", before[:2], crs="EPSG:4490", transform=from_origin(106, 30, 1e-4, 1e-4))
    with pytest.raises(InputError) as err:
        detect_changes(geo_two, tmp_path / "nope.tif", tmp_path / "p.gpkg",
                       params=DetectionParams(t_ndvi=-0.1))
    msg = str(err.value)
    assert "4 problem(s)" in msg, msg
    assert "t_ndvi" in msg and "2 band(s)" in msg and "geographic" in msg and "nope.tif does not exist" in msg


def test_nodata_and_scaled_integers(tmp_path):
    before, after = _pair(tmp_path)
    dn_b, dn_a = (np.round(x * 10_000).astype(np.uint16) for x in (before, after))
    dn_b[:, 5:8, 5:11] = 0  # nodata over the top half of the new site, before
    b = _tif(tmp_path / "b.tif", dn_b, nodata=0)
    a = _tif(tmp_path / "a.tif", dn_a, nodata=0)
    res = detect_changes(b, a, tmp_path / "p.gpkg", image_date=date(2024, 5, 1),
                         params=DetectionParams(min_area_m2=100))
    assert res.patches == 1 and res.cells == 3 * 6 - 4  # the bottom rows 8–10; the disk trims the corners
    assert res.valid_cells == 20 * 20 - 18
    assert res.image_date_source == "argument"
    with pytest.raises(InputError, match="without a nodata"):
        detect_changes(_tif(tmp_path / "b0.tif", dn_b), a, tmp_path / "p.gpkg", image_date=date(2024, 5, 1))


def test_a_site_around_two_unequal_islands_keeps_both_holes(tmp_path):
    forest, soil = np.array([0.03, 0.33, 0.14], np.float32), np.array([0.2, 0.26, 0.32], np.float32)
    before = np.broadcast_to(forest[:, None, None], (3, 40, 40)).copy()
    after = before.copy()
    site = np.zeros((40, 40), bool)
    site[2:38, 2:38] = True  # 36 × 36 site ...
    site[8:12, 8:12] = False  # ... around a 4×4 island of forest ...
    site[20:26, 20:24] = False  # ... and an L-shaped one (32 cells), both above the 4-cell minimum
    site[24:26, 24:28] = False
    after[:, site] = soil[:, None]
    res = detect_changes(_tif(tmp_path / "b.tif", before), _tif(tmp_path / "a.tif", after), tmp_path / "p.gpkg",
                         image_date=date(2024, 5, 1))
    meta, _, wkb, values = pyogrio.raw.read(res.out, columns=["cells", "area_m2"])
    col = dict(zip(meta["fields"], values))
    (geom,) = shapely.from_wkb(wkb)
    assert res.patches == 1 and len(geom.geoms) == 1 and len(geom.geoms[0].interiors) == 2
    # the disk opening trims the site's 4 outer corners and the L's inner corner cell (23, 24)
    assert col["cells"][0] == 36 * 36 - 4 - 16 - 33
    assert geom.area == col["area_m2"][0] == col["cells"][0] * 100.0


def test_band_order_parsing():
    assert BandOrder.parse("blue,-,red,nir,swir") == BandOrder(red=3, nir=4, swir=5, blue=1)
    with pytest.raises(InputError, match="missing: swir"):
        BandOrder.parse("red,nir")


# --------------------------------------------------------------------------- the command
def test_cli_prints_a_summary_and_refuses_a_bad_date(tmp_path):
    before, after = _pair(tmp_path)
    b, a = _tif(tmp_path / "b.tif", before), _tif(tmp_path / "a.tif", after)
    app = typer.Typer()
    app.command()(detect)
    out = tmp_path / "p.gpkg"
    ok = CliRunner().invoke(app, [str(b), str(a), "-o", str(out), "--after-date", "2024-09-30", "--period", "2024H2"])
    assert ok.exit_code == 0, ok.output
    assert "1 candidate disturbance patches" in ok.output and str(out) in ok.output
    meta, _, _, values = pyogrio.raw.read(out, columns=["patch_id", "image_date"])
    col = dict(zip(meta["fields"], values))
    assert col["patch_id"].tolist() == ["CD2024H2-00001"] and col["image_date"].tolist() == ["2024-09-30"]
    bad = CliRunner().invoke(app, [str(b), str(a), "-o", str(out), "--after-date", "2024-13-01"])
    assert isinstance(bad.exception, InputError) and "--after-date" in str(bad.exception)
