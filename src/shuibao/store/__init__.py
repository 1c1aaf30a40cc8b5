"""Storage: one interface (:class:`Store`), embedded GeoPackage/SQLite and PostGIS backends."""

from .store import DEFAULT_DB, Store, StoreStatus

__all__ = ["DEFAULT_DB", "Store", "StoreStatus"]
