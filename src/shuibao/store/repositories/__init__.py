"""Repositories: all SQL of the platform, one module per aggregate (projects, patches, cases, runs, stations…).

Services call these functions with a SQLAlchemy ``Connection`` taken from :meth:`shuibao.store.Store.transaction`
(writes) or :meth:`~shuibao.store.Store.reading` (reads); they never build SQL against ``schema`` themselves.
Differences between the embedded GeoPackage and PostGIS (spatial indexes, geometry functions) are decided here,
from ``conn.dialect.name``, never in a service.
"""
