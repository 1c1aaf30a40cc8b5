#!/usr/bin/env bash
# Install Shuibao and run its main job on the embedded store: `shuibao demo`, the annual soil-loss
# monitoring of the whole city on SYNTHETIC inputs over the real district boundaries (two years and
# their comparison), plus the plan audit and the plan's conservation rates beside it.
# Usage: scripts/demo.sh [OUT] [RESOLUTION_M]   (defaults: ./demo-output, 100 m)
source "$(dirname "$0")/lib.sh"
OUT=${1:-$ROOT/demo-output}
RES=${2:-100}
apt_install fonts-wqy-zenhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  # the bulletin's Chinese labels and PDF
ensure_venv "web"  # the web extra: `shuibao serve` shows the demo
mkdir -p "$OUT"
SB="$VENV/bin/shuibao"
export SHUIBAO_DB="$OUT/shuibao.gpkg"
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$ROOT/.cache/numba}
log "shuibao plan audit / rates (the plan's own tables)"
"$SB" plan audit --format json > "$OUT/plan-audit.json"
"$SB" plan audit | tail -n 3
"$SB" plan rates --format csv > "$OUT/plan-rates.csv"
log "shuibao demo --out $OUT --resolution $RES (SYNTHETIC inputs; the first run compiles the kernels, ~30 s)"
"$SB" demo --out "$OUT" --resolution "$RES"
log "shuibao report bulletin (水土保持公报 of the latest run, compared with the previous year)"
"$SB" report bulletin --run latest --compare previous -o "$OUT/bulletin" | tail -n 1
log "shuibao report district --all (a sheet per district)"
"$SB" report district --all --run latest -o "$OUT/bulletin/districts" | tail -n 1
"$SB" report plan-progress --format csv > "$OUT/plan-progress.csv"
log "done: outputs in $OUT — output/<year>/ (rasters, tables, monitoring.xlsx, monitoring.gpkg), compare-*/, supervision/ (synthetic projects, patches, compliance, treatment, stations, warning, assessment), scenario/, bulletin/ (with districts/), plan-progress.csv, shuibao.gpkg"
log "browse it: $SB --db $OUT/shuibao.gpkg serve  →  http://127.0.0.1:8000 (the demo login is in $OUT/web-login.txt)"
