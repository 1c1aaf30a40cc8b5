#!/usr/bin/env bash
# Install everything (system packages, a PostGIS server, Python dependencies),
# lint (ruff, mypy; either failing fails the script) and run the whole test
# suite against both database backends.
# This is exactly what CI runs (.ci/run).
source "$(dirname "$0")/lib.sh"
apt_install postgresql-15 postgresql-15-postgis-3 poppler-utils fonts-wqy-zenhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium saga gdal-bin
ensure_venv "dev"

# The lint gates first: cheap, and a failure stops the script before the long test run.
# Configured in pyproject.toml ([tool.ruff], [tool.mypy]).
log "ruff check src tests"
(cd "$ROOT" && "$VENV/bin/ruff" check src tests)
log "mypy (src/shuibao/core, src/shuibao/services)"
(cd "$ROOT" && "$VENV/bin/mypy")

# A throw-away PostGIS cluster on a private port, removed on exit.
PGBIN=/usr/lib/postgresql/15/bin
PGPORT=${SHUIBAO_PGPORT:-54329}
PGTMP=$(mktemp -d -t shuibao-pg.XXXXXX)
cleanup() {
    if [ -f "$PGTMP/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGTMP"
}
trap cleanup EXIT
chown postgres:postgres "$PGTMP"
log "starting PostGIS on 127.0.0.1:$PGPORT"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/pg.log" -w -t 60 \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE shuibao_test"
psql -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d shuibao_test -c "CREATE EXTENSION postgis"
export SHUIBAO_TEST_POSTGIS_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/shuibao_test"
export SHUIBAO_REQUIRE_POSTGIS=1
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$ROOT/.cache/numba}

log "pytest (embedded GeoPackage and PostGIS)"
cd "$ROOT"
"$VENV/bin/python" -m pytest "$@"
