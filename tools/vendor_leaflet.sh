#!/usr/bin/env bash
# How src/shuibao/web/static/vendor/leaflet was made: Leaflet from npm, copied into the package so the
# web UI needs no CDN (bureaus run it on closed networks). Re-run to update; commit the result.
set -euo pipefail
VERSION=${1:-1.9.4}
DEST="$(cd "$(dirname "$0")/.." && pwd)/src/shuibao/web/static/vendor/leaflet"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "leaflet@$VERSION" >/dev/null && tar xzf "leaflet-$VERSION.tgz")
mkdir -p "$DEST/images"
cp "$TMP/package/dist/leaflet.js" "$TMP/package/dist/leaflet.css" "$TMP/package/LICENSE" "$DEST/"
cp "$TMP/package/dist/images/"*.png "$DEST/images/"
echo "leaflet $VERSION" > "$DEST/VERSION"
