"""The store on both backends: migrations, idempotent init, transactions, errors."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import func, select, text

from shuibao.errors import SchemaVersionError, StoreError
from shuibao.services.platform import database
from shuibao.store import Store, schema
from shuibao.store.migrations import LATEST, MIGRATIONS
from shuibao.store.reference_loader import read_boundaries


def _snapshot(url):
    with Store(url) as store, store.reading() as conn:
        out = {}
        for table in schema.REFERENCE_TABLES:
            cols = [c for c in table.columns if c.name not in ("id", "fid", "geom")]
            out[table.name] = sorted(tuple(repr(v) for v in r) for r in conn.execute(select(*cols)))
        out["geom"] = sorted((b["district_code"], b["geom"].wkb) for b in read_boundaries(conn))
        return out


def test_init_creates_schema_and_loads_reference(db_url, ref):
    result = database.init(db_url)
    assert result.migrations == tuple(f"{m.version:04d} {m.name}" for m in MIGRATIONS)
    assert result.migrations[0] == "0001 reference data: regions, districts, boundaries, plan tables"
    assert result.counts["districts"] == 39 and result.counts["district_boundaries"] == 38
    assert result.counts["plan_erosion_2020"] == len(ref.schedule1)
    status = database.status(db_url)
    assert status.version == LATEST and status.pending == ()
    assert status.counts["regions"] == 3 and status.last_reference_load


def test_init_is_idempotent(db_url):
    database.init(db_url)
    first = _snapshot(db_url)
    again = database.init(db_url)
    assert again.migrations == ()
    assert _snapshot(db_url) == first
    with Store(db_url) as store, store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(schema.reference_loads)).scalar() == 2


def test_boundaries_round_trip_and_area(db_url, ref):
    database.init(db_url)
    with Store(db_url) as store, store.reading() as conn:
        rows = read_boundaries(conn)
    assert len(rows) == 38
    fuling = next(r for r in rows if r["district_code"] == "fuling")
    assert fuling["geom"].geom_type == "MultiPolygon" and fuling["geom"].is_valid
    assert 107.0 < fuling["geom"].centroid.x < 107.8 and 29.4 < fuling["geom"].centroid.y < 30.1
    assert fuling["plan_area_km2"] == 2941
    assert abs(fuling["deviation_pct"]) < 1
    qijiang = next(r for r in rows if r["district_code"] == "qijiang")
    assert qijiang["covers"] == "綦江区|万盛经开区"


def test_spatial_query_on_the_backend(db_url):
    """A point in 渝中区 (解放碑, 106.577 E 29.557 N) falls in exactly one district polygon."""
    database.init(db_url)
    point = shapely.Point(106.577, 29.557)
    with Store(db_url) as store, store.reading() as conn:
        if store.backend == "postgresql":
            hits = conn.execute(text(
                "SELECT district_code FROM district_boundaries "
                "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"), {"x": point.x, "y": point.y}
            ).scalars().all()
        else:
            hits = [r["district_code"] for r in read_boundaries(conn) if r["geom"].intersects(point)]
    assert hits == ["yuzhong"]


def test_failed_load_leaves_previous_data(db_url, monkeypatch):
    database.init(db_url)
    before = _snapshot(db_url)

    import shuibao.store.reference_loader as loader

    def broken_checksum():
        raise StoreError("simulated failure after the tables were rewritten")

    monkeypatch.setattr(loader, "data_checksum", broken_checksum)
    with pytest.raises(StoreError, match="simulated failure"):
        database.init(db_url)
    assert _snapshot(db_url) == before


def test_failed_first_init_leaves_no_reference_rows(db_url, monkeypatch):
    import shuibao.store.reference_loader as loader

    monkeypatch.setattr(loader, "data_checksum", lambda: (_ for _ in ()).throw(StoreError("boom")))
    with pytest.raises(StoreError):
        database.init(db_url)
    with Store(db_url) as store, store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(schema.districts)).scalar() == 0


def test_newer_schema_is_refused(db_url):
    database.init(db_url)
    with Store(db_url) as store, store.transaction() as conn:
        conn.execute(schema.schema_migrations.insert().values(
            version=LATEST + 1, name="from the future", applied_at=func.now(), software_version="99"))
    with pytest.raises(SchemaVersionError, match="newer than this Shuibao"):
        database.init(db_url)


def test_upgrade_on_current_schema_does_nothing(db_url):
    database.init(db_url)
    _, applied = database.upgrade(db_url)
    assert applied == []


def test_reference_tables_hold_the_plan_numbers(db_url):
    database.init(db_url)
    with Store(db_url) as store, store.reading() as conn:
        t = schema.plan_targets
        city = conn.execute(select(t.c.rate_2020_pct, t.c.target_2025_pct).where(t.c.row_kind == "city")).one()
        fengdu = conn.execute(select(t.c.label, t.c.district_code).where(t.c.seq == 27)).one()
    assert tuple(city) == (69.48, 72.23)
    assert tuple(fengdu) == ("丰都区", "fengdu")  # printed name kept, linked to the right unit


def test_no_half_written_state_when_boundaries_fail(db_url, monkeypatch):
    """Reference data is prepared before the transaction: a failure there writes nothing at all."""
    import shuibao.services.platform.database as svc
    from shuibao.errors import DataError

    monkeypatch.setattr(svc, "build_boundaries", lambda ref: (_ for _ in ()).throw(DataError("no polygons")))
    with pytest.raises(DataError):
        svc.init(db_url)
    if not db_url.startswith("postgresql"):
        import os
        assert not os.path.exists(db_url)
