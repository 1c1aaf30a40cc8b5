#!/usr/bin/env bash
# Install Shuibao and run its main job on the embedded store.
# Until the monitoring demo exists (issue #4) the main job is: create the
# GeoPackage database with the plan's reference data and boundaries, audit the
# plan, compute the conservation rates, compare the boundaries, and run the CSLE
# erosion engine on a small synthetic scene (outputs labelled synthetic).
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
log "shuibao erosion csle on a SYNTHETIC 400×400 scene (the first run compiles the kernels, ~30 s)"
"$SB" erosion example-inputs "$OUT/synthetic-inputs" --size 400
"$SB" erosion csle --dem "$OUT/synthetic-inputs/dem.tif" --landuse "$OUT/synthetic-inputs/landuse.tif" \
    --ndvi "$OUT/synthetic-inputs/ndvi.tif" --rain "$OUT/synthetic-inputs/rain.csv" \
    --soil "$OUT/synthetic-inputs/soil.tif" --soil-table "$OUT/synthetic-inputs/soil.csv" \
    --channel-threshold 1000000 -o "$OUT/csle-synthetic"
log "done: outputs in $OUT (open shuibao.gpkg and csle-synthetic/*.tif in QGIS)"
