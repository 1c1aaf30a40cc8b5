"""L3 (security review): implausible imports are refused with the reason — a feature with more vertices than any
real outline (the review stored a 1,000,000-vertex patch), an observation dated years ahead (2038-01-01 added
4,384 gap-filled rows)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
from shapely.geometry import Polygon, mapping
from sqlalchemy import func, select

from shuibao.errors import InputError
from shuibao.services.supervision import patches
from shuibao.services.stations import records as station_service
from shuibao.store import Store, schema

from tests.helpers import STATIONS, write_csv
from tests.helpers import X0, Y0, patch_row, write_layer
from .test_uploads import site  # noqa: F401  (the fixture)


DENSE = 250_000  # vertices: more than any real outline (the review's patch had 1,000,000)


def ring(n: int) -> Polygon:
    """A 1 km circle near (X0, Y0) in EPSG:4545 with ``n`` vertices."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return Polygon(np.column_stack([X0 + 1000 + 1000 * np.cos(t), Y0 + 1000 + 1000 * np.sin(t)]))


def stored(db: str, table) -> int:
    with Store(db) as store, store.reading() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_feature_with_more_vertices_than_the_cap_is_refused(site, tmp_path):  # noqa: F811
    db, client, admin = site
    path = write_layer(tmp_path / "dense.gpkg", [patch_row("D1"), patch_row("OK")],
                       [ring(DENSE), ring(5000)])
    with pytest.raises(InputError, match=rf"row 1 \(D1\): geometry has {DENSE + 1:,} vertices"):
        patches.import_patches(db, path)
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4545"}},
           "features": [{"type": "Feature", "properties": patch_row("D1"), "geometry": mapping(ring(DENSE))}]}
    r = client.post("/api/patches", headers=admin, content=json.dumps(doc))
    assert r.status_code == 422 and "vertices" in r.json()["rows"][0]["messages"], r.text[:500]
    assert stored(db, schema.disturbance_patches) == 0
    ok = write_layer(tmp_path / "ok.gpkg", [patch_row("OK")], [ring(5000)])
    assert patches.import_patches(db, ok).features == 1


def test_observations_dated_in_the_future_are_refused_with_the_row(site, tmp_path):  # noqa: F811
    db, client, admin = site
    station_service.import_stations(db, write_csv(tmp_path / "s.csv", STATIONS))
    today = date.today()
    path = write_csv(tmp_path / "o.csv", [dict(station="S1", date=today.isoformat(), value="1.0"),
                                           dict(station="S1", date="2038-01-01", value="2.0")])
    with pytest.raises(InputError, match=r"row 3.*2038-01-01 is in the future"):
        station_service.import_observations(db, path)
    r = client.post("/api/stations/observations", headers=admin,
                    files={"file": ("o.csv", path.read_bytes())}, data={"variable": "rain_mm"})
    assert r.status_code == 422 and "2038-01-01 is in the future" in r.text
    assert stored(db, schema.station_observations) == 0
    good = write_csv(tmp_path / "g.csv", [dict(station="S1", date=(today - timedelta(days=2)).isoformat(),
                                               value="1.0"),
                                          dict(station="S1", date=(today + timedelta(days=1)).isoformat(),
                                               value="2.0")])
    assert station_service.import_observations(db, good)["rows"] == 2
    assert stored(db, schema.station_observations) == 4  # two records and the two gap days between them
