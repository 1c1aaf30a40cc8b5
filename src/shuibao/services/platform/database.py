"""Use cases over the database: init, upgrade, status."""

from __future__ import annotations

from dataclasses import dataclass

from shuibao.plan.boundaries import build_boundaries
from shuibao.plan.reference import load_reference
from shuibao.store import Store, StoreStatus
from shuibao.store.reference_loader import load_reference as write_reference


@dataclass(frozen=True)
class InitResult:
    location: str
    backend: str
    migrations: tuple[str, ...]
    counts: dict[str, int]


def init(target: str | None, *, boundaries: bool = True) -> InitResult:
    """Create or upgrade the schema, then (re)load the plan's reference data in one transaction.

    Idempotent: a second run rewrites the same rows.  The reference data and the
    boundaries are prepared before the transaction opens, so a bad data file
    fails before anything is written.
    """
    ref = load_reference()
    polygons = build_boundaries(ref) if boundaries else None
    with Store(target, create=True) as store:
        applied = store.upgrade()
        with store.transaction() as conn:
            store.require_current(conn)
            counts = write_reference(conn, ref, polygons, store.backend)
        return InitResult(store.location, store.backend, tuple(applied), counts)


def upgrade(target: str | None) -> tuple[str, list[str]]:
    with Store(target) as store:
        return store.location, store.upgrade()


def status(target: str | None) -> StoreStatus:
    with Store(target) as store:
        return store.status()


def require_current(target: str | None) -> str:
    """The database's location if it exists at this Shuibao's schema version; else the reason, as an error."""
    with Store(target) as store, store.reading() as conn:
        store.require_current(conn)
        return store.location


def locations(target: str | None) -> list[str]:
    """How error messages name the database (``Store.location``, and a file's absolute path), longest first —
    for the web, which must not show the server's paths or URLs to its callers."""
    from pathlib import Path

    from shuibao.store.store import describe, resolve_target, to_url

    url = to_url(resolve_target(target))
    found = {describe(url)}
    if url.get_backend_name() == "sqlite" and url.database:
        found.add(str(Path(url.database).resolve()))
    return sorted(found, key=len, reverse=True)
