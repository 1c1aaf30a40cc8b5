"""Compare two demo output trees: every CSV byte for byte, every GeoTIFF's data (with transform and CRS), the plan
audit — the check that a refactor left the numbers alone.

    scripts/demo.sh /tmp/before 100   # on the old commit
    scripts/demo.sh /tmp/after 100    # on the new one
    .venv/bin/python tools/compare_demo_outputs.py /tmp/before /tmp/after   # exit 1 on any difference

JSON provenance, GeoPackages, PDFs and the step records are left out: they carry paths, times and digests.
"""
import pathlib
import sys

import rasterio

a, b = map(pathlib.Path, sys.argv[1:3])
def files(root, pat): return sorted(p.relative_to(root) for p in root.rglob(pat) if ".steps" not in p.parts)
ok = True
for pat in ("*.csv", "plan-audit.json"):
    fa, fb = files(a, pat), files(b, pat)
    if fa != fb: print("DIFFERENT FILE SETS", pat, set(fa) ^ set(fb)); ok = False
    same = 0
    for f in fa:
        if f in fb:
            if (a / f).read_bytes() != (b / f).read_bytes(): print("DIFFERS", f); ok = False
            else: same += 1
    print(pat, same, "identical of", len(fa))
ta, tb = files(a, "*.tif"), files(b, "*.tif")
same = 0
for f in ta:
    if f not in tb: print("MISSING", f); ok = False; continue
    with rasterio.open(a / f) as x, rasterio.open(b / f) as y:
        if x.read().tobytes() != y.read().tobytes() or x.transform != y.transform or x.crs != y.crs: print("RASTER DIFFERS", f); ok = False
        else: same += 1
print("tif", same, "identical (data, transform, CRS) of", len(ta))
print("ALL IDENTICAL" if ok else "DIFFERENCES")
sys.exit(0 if ok else 1)
