"""The storage seam: one :class:`Store` over two backends.

* ``sqlite`` — the embedded default: a single GeoPackage-compatible SQLite file
  (``shuibao.gpkg``) that needs nothing beyond ``pip install`` and opens in QGIS.
* ``postgresql`` — PostGIS via ``postgresql+psycopg://user@host/db`` for
  multi-user deployments.

The database is named by ``--db`` or ``SHUIBAO_DB``: a file path or an
SQLAlchemy URL.  Every write happens in :meth:`Store.transaction`, so a failed
command leaves nothing half-written.  Driver errors are mapped to
:class:`~shuibao.errors.StoreError` with one actionable sentence.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from .. import __version__
from ..errors import InputError, SchemaVersionError, StoreError, N_
from . import gpkg, latest, schema
from .migrations import LATEST, MIGRATIONS
from .versions import v0001_reference

DEFAULT_DB = "shuibao.gpkg"
_ENGINES: OrderedDict[tuple, Engine] = OrderedDict()  # the most recently used last
_ENGINE_LOCK = threading.Lock()
MAX_ENGINES = 4  # pools kept open at once; a process that moves between many databases disposes the oldest
_WRITES = [0]  # write transactions this process has committed (any database); caches compare it


def writes_committed() -> int:
    """How many write transactions this process has committed so far: a cache of store reads that saw this
    number unchanged has missed no write made by this process."""
    return _WRITES[0]
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def resolve_target(target: str | None) -> str:
    """The database the user means: ``--db``, else ``SHUIBAO_DB``, else ./shuibao.gpkg."""
    return target or os.environ.get("SHUIBAO_DB") or DEFAULT_DB


def to_url(target: str) -> URL:
    """Turn a path or URL into an SQLAlchemy URL; refuse what we do not support."""
    if "://" not in target:
        return URL.create("sqlite", database=str(Path(target).expanduser()))
    try:
        url = make_url(target)
    except ArgumentError as exc:
        raise InputError(N_("--db {target!r}: not a valid database URL ({exc})", target=target, exc=exc)) from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgis"):
        return url.set(drivername="postgresql+psycopg")
    if url.drivername in ("sqlite", "sqlite+pysqlite", "gpkg"):
        if not url.database or url.database == ":memory:":
            raise InputError(N_("--db {target!r}: the embedded store needs a file path, e.g. sqlite:///shuibao.gpkg", target=target))
        return url.set(drivername="sqlite")
    raise InputError(
        N_("--db {target!r}: unsupported database {drivername!r}; use a file path (embedded GeoPackage) "
        "or postgresql+psycopg://user@host/dbname", target=target, drivername=url.drivername)
    )


def describe(url: URL) -> str:
    """The URL without its password, for messages."""
    # to_url refuses a sqlite URL without a file path
    return cast(str, url.database) if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)


@dataclass(frozen=True)
class StoreStatus:
    backend: str
    location: str
    exists: bool
    version: int | None
    latest: int
    pending: tuple[str, ...]
    counts: dict[str, int]
    last_reference_load: str | None


class Store:
    """A database of the platform; use as a context manager or call :meth:`close`."""

    def __init__(self, target: str | None = None, *, create: bool = False):
        self.target = resolve_target(target)
        self.url = to_url(self.target)
        self.backend = self.url.get_backend_name()
        self.location = describe(self.url)
        if self.backend == "sqlite":
            self._check_sqlite_file(create)
        try:
            self.engine = self._cached_engine()
        except NoSuchModuleError as exc:
            raise StoreError(N_("{location}: the driver is missing; `pip install shuibao[postgis]`", location=self.location)) from exc
        except ModuleNotFoundError as exc:
            raise StoreError(N_("{location}: the driver is missing ({name}); "
                             "`pip install shuibao[postgis]`", location=self.location, name=exc.name)) from exc

    # ---------------------------------------------------------------- engine
    def _check_sqlite_file(self, create: bool) -> None:
        path = Path(self.url.database or "")
        if path.exists():
            if path.is_dir():
                raise StoreError(N_("{path}: is a folder; --db expects a .gpkg file", path=path))
            with open(path, "rb") as fh:
                head = fh.read(16)
            if head and head != SQLITE_MAGIC:
                raise StoreError(N_("{path}: not a Shuibao database (not an SQLite/GeoPackage file)", path=path))
        elif not create:
            raise StoreError(N_("{path}: database does not exist; create it with `shuibao db init --db {path}`", path=path))
        elif not path.parent.exists():
            raise StoreError(N_("{path}: folder {parent} does not exist", path=path, parent=path.parent))

    def _make_engine(self) -> Engine:
        if self.backend == "sqlite":
            engine = create_engine(self.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn, _record):
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves: DDL stays transactional
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys = ON")
                cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                cur.close()
                gpkg.register_functions(dbapi_conn)  # the RTree triggers call ST_MinX … (ADR 0011)

            @event.listens_for(engine, "begin")
            def _on_begin(conn):
                # writers take the write lock up front, so they wait (busy_timeout) instead of failing late
                mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
                conn.exec_driver_sql(f"BEGIN {mode}")

            return engine
        return create_engine(self.url, pool_pre_ping=True)

    def _identity(self) -> tuple:
        """What the engine is for: the URL, and for a file its inode (a file replaced at the same path is another)."""
        if self.backend == "sqlite":
            path = Path(self.url.database or "")
            st = path.stat() if path.exists() else None
            return (str(path.resolve()), st.st_dev if st else None, st.st_ino if st else None)
        return (self.url.render_as_string(hide_password=False),)

    def _cached_engine(self) -> Engine:
        """One engine (and connection pool) per database and process: opening one per call costs more than most
        requests of the web platform.  A new file at the same path gets a new engine."""
        key = self._identity()
        if key[-1] is None:  # a file not created yet: no pooling until it exists
            return self._make_engine()
        with _ENGINE_LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                engine = _ENGINES[key] = self._make_engine()
                while len(_ENGINES) > MAX_ENGINES:
                    _, old = _ENGINES.popitem(last=False)
                    old.dispose()  # idle connections close; one in use closes when returned
            _ENGINES.move_to_end(key)
        return engine

    def close(self) -> None:
        """Release this store; a cached engine keeps its pool for the next caller."""
        if self._identity() not in _ENGINES:
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- transactions
    def _translate(self, exc: Exception) -> StoreError:
        msg = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        low = msg.lower()
        if "database is locked" in low or "database table is locked" in low:
            return StoreError(N_("{location}: the database is locked by another process "
                              "(waited {value1} s); close the other writer and retry", location=self.location, value1=BUSY_TIMEOUT_MS // 1000))
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            return StoreError(N_("{location}: the database file is corrupt ({msg}); restore it from a backup", location=self.location, msg=msg))
        if "connection" in low and self.backend == "postgresql":
            return StoreError(N_("cannot connect to {location}: {msg}", location=self.location, msg=msg))
        if "readonly" in low or "read-only" in low:
            return StoreError(N_("{location}: the database is read-only ({msg})", location=self.location, msg=msg))
        return StoreError(N_("{location}: database error: {msg}", location=self.location, msg=msg))

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """A connection in one transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.connect() as conn:
                if not write:
                    conn = conn.execution_options(sqlite_begin="DEFERRED")
                with conn.begin():
                    yield conn
            if write:
                with _ENGINE_LOCK:
                    _WRITES[0] += 1
        except (DBAPIError, SQLAlchemyError) as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads (one deferred transaction, so reads are consistent)."""
        with self.transaction(write=False) as conn:
            yield conn

    # ---------------------------------------------------------------- schema
    def schema_version(self, conn: Connection | None = None) -> int | None:
        """Highest applied migration, or ``None`` for an empty database."""
        if conn is None:
            with self.reading() as c:
                return self.schema_version(c)
        if not inspect(conn).has_table(schema.schema_migrations.name):
            return None
        return conn.execute(select(func.max(schema.schema_migrations.c.version))).scalar()

    def applied_versions(self, conn: Connection) -> set[int]:
        if not inspect(conn).has_table(schema.schema_migrations.name):
            return set()
        return set(conn.execute(select(schema.schema_migrations.c.version)).scalars())

    def upgrade(self, to: int | None = None) -> list[str]:
        """Apply every migration not yet recorded, in order, up to version ``to`` (default the latest); returns
        their names.

        An empty database brought to the latest version is created from the live schema in one transaction and
        stamped with every migration (ADR 0010).  Otherwise each missing frozen migration runs in its own
        transaction, by the set of recorded versions, not only the highest: a database that got a later
        migration first (two lines of work merged) still gets the earlier one."""
        target = LATEST if to is None else to
        with self.transaction() as conn:
            done = self._check_not_newer(conn)
            if not done and target == LATEST:
                return self._create_latest(conn)
        applied = []
        for migration in MIGRATIONS:
            if migration.version > target:
                break
            with self.transaction() as conn:
                done = self._check_not_newer(conn)
                if migration.version in done:
                    continue
                if not done and migration.version == 1:
                    v0001_reference.schema_migrations.create(conn, checkfirst=True)
                migration.apply(conn, self.backend)
                self._record(conn, migration)
                applied.append(f"{migration.version:04d} {migration.name}")
        return applied

    def _check_not_newer(self, conn: Connection) -> set[int]:
        """The recorded versions; refuses a database newer than this code."""
        done = self.applied_versions(conn)
        current = max(done, default=0)
        if current > LATEST:
            raise SchemaVersionError(
                N_("{location}: schema version {current} is newer than this Shuibao "
                "({version}, schema {LATEST}); upgrade Shuibao", location=self.location, current=current, version=__version__, LATEST=LATEST)
            )
        return done

    def _create_latest(self, conn: Connection) -> list[str]:
        """A fresh database: the latest schema, with every migration recorded as applied."""
        schema.schema_migrations.create(conn, checkfirst=True)
        latest.create(conn, self.backend)
        for migration in MIGRATIONS:
            self._record(conn, migration)
        return [f"{m.version:04d} {m.name}" for m in MIGRATIONS]

    @staticmethod
    def _record(conn: Connection, migration) -> None:
        conn.execute(schema.schema_migrations.insert().values(
            version=migration.version, name=migration.name,
            applied_at=datetime.now(UTC), software_version=__version__,
        ))

    def require_current(self, conn: Connection) -> None:
        """Refuse to work on a database whose schema is not the one this code expects (every migration applied)."""
        if not inspect(conn).has_table(schema.schema_migrations.name):
            raise SchemaVersionError(N_("{location}: not initialised; run `shuibao db init`", location=self.location))
        m = schema.schema_migrations.c.version
        version, count = conn.execute(select(func.max(m), func.count(func.distinct(m)))).one()
        if version is None:
            raise SchemaVersionError(N_("{location}: not initialised; run `shuibao db init`", location=self.location))
        if version > LATEST:
            raise SchemaVersionError(
                N_("{location}: schema version {version} is newer than this Shuibao ({LATEST}); upgrade Shuibao", location=self.location, version=version, LATEST=LATEST)
            )
        if version < LATEST or count < len(MIGRATIONS):
            missing = [mg.version for mg in MIGRATIONS if mg.version not in self.applied_versions(conn)]
            raise SchemaVersionError(
                N_("{location}: schema version {version}, this Shuibao needs {LATEST} "
                "(migration(s) {map} not applied); run `shuibao db upgrade`", location=self.location, version=version, LATEST=LATEST, map=', '.join(map(str, missing)))
            )

    def status(self) -> StoreStatus:
        with self.reading() as conn:
            version = self.schema_version(conn)
            done = self.applied_versions(conn)
            pending = tuple(f"{m.version:04d} {m.name}" for m in MIGRATIONS if m.version not in done)
            counts: dict[str, int] = {}
            last = None
            if version:
                names = set(inspect(conn).get_table_names())
                for table in schema.REFERENCE_TABLES:
                    if table.name in names:
                        counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar() or 0
                row = conn.execute(
                    select(schema.reference_loads).order_by(schema.reference_loads.c.id.desc()).limit(1)
                ).first()
                if row is not None:
                    last = f"{row.loaded_at:%Y-%m-%d %H:%M:%S} by shuibao {row.software_version}"
        return StoreStatus(self.backend, self.location, True, version, LATEST, pending, counts, last)
