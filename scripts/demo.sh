#!/usr/bin/env bash
# Install Shuibao and run its main job on the embedded store.
# Until the monitoring demo exists (issue #4) the main job is: create the
# GeoPackage database with the plan's reference data and boundaries, then
# audit the plan, compute the conservation rates and compare the boundaries.
source "$(dirname "$0")/lib.sh"
OUT=${1:-$ROOT/demo-output}
ensure_venv ""
mkdir -p "$OUT"
SB="$VENV/bin/shuibao"
export SHUIBAO_DB="$OUT/shuibao.gpkg"
log "shuibao db init  → $SHUIBAO_DB"
"$SB" db init
log "shuibao plan audit"
"$SB" plan audit | tee "$OUT/plan-audit.txt"
"$SB" plan audit --format json > "$OUT/plan-audit.json"
log "shuibao plan rates"
"$SB" plan rates | tee "$OUT/plan-rates.txt"
"$SB" plan rates --format csv > "$OUT/plan-rates.csv"
log "shuibao plan boundaries"
"$SB" plan boundaries --format csv > "$OUT/plan-boundaries.csv"
"$SB" plan boundaries | tail -n 1
log "done: outputs in $OUT (open shuibao.gpkg in QGIS)"
