"""B4 and C (security review): `shuibao monitor run` on a truncated GeoTIFF and on a disk that fills up ends
with one clear line and exit 2, not a 66- or 138-line traceback; nothing half-written is left."""

from __future__ import annotations

import errno
import shutil

import pytest
import rasterio.shutil
from rasterio._err import CPLE_AppDefinedError

from shuibao.cli.main import run
from shuibao.services.platform import database

from tests.helpers import spec_text


@pytest.fixture
def case(area, tmp_path):  # noqa: F811
    folder = tmp_path / "case"
    shutil.copytree(area / "inputs", folder / "inputs")
    shutil.copy(area / "districts.gpkg", folder / "districts.gpkg")
    (folder / "spec.toml").write_text(spec_text(), encoding="utf-8")
    db = str(tmp_path / "runs.gpkg")
    database.init(db, boundaries=False)
    return folder, db


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp*"))


@pytest.mark.parametrize("role, name", [("DEM", "dem.tif"), ("NDVI", "ndvi.tif")])
def test_a_truncated_geotiff_is_named_with_exit_2(case, capsys, role, name):
    folder, db = case
    tif = folder / "inputs" / name
    tif.write_bytes(tif.read_bytes()[: tif.stat().st_size * 2 // 3])  # the header survives, tiles do not
    code = run(["--db", db, "monitor", "run", str(folder / "spec.toml")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert f"{role}: {tif} cannot be read: its data is truncated or damaged" in err
    assert not (folder / "out" / "rasters").exists() or not list((folder / "out" / "rasters").iterdir())


@pytest.mark.parametrize("failure", ["enospc", "gdal"])
def test_a_disk_filling_up_during_a_run_is_one_line_naming_the_folder(case, capsys, monkeypatch, failure):
    """The writer fails as a full disk makes it fail: Python's OSError(ENOSPC), or GDAL's TIFF error (which
    does not say ENOSPC) while the disk has no room left."""
    folder, db = case
    real_copy = rasterio.shutil.copy

    def full_disk(src, dst, **kw):
        if "soil_loss" not in str(dst):
            return real_copy(src, dst, **kw)
        with open(dst, "wb") as fh:
            fh.write(b"II*\x00" + b"\0" * 4096)  # part of the file got out before the disk filled
        if failure == "enospc":
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        monkeypatch.setattr("shuibao.io.atomic.shutil.disk_usage", lambda _: shutil._ntuple_diskusage(1, 1, 0))
        raise CPLE_AppDefinedError(1, 1, "TIFFRewriteDirectory:Error fetching directory count")

    monkeypatch.setattr(rasterio.shutil, "copy", full_disk)
    code = run(["--db", db, "monitor", "run", str(folder / "spec.toml")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    line = next(x for x in err.splitlines() if x.startswith("error:"))
    assert f"{folder / 'out' / 'rasters'}: disk full while writing soil_loss.tif" in line
    assert leftovers(folder / "out") == [] and not (folder / "out" / "rasters" / "soil_loss.tif").exists()
    if failure == "enospc":
        monkeypatch.undo()  # room again: the run resumes and completes
        assert run(["--db", db, "-q", "monitor", "run", str(folder / "spec.toml")]) == 0
