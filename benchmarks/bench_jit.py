"""First-run JIT cost of the numba kernels, and what a second run pays.

usage: python benchmarks/bench_jit.py

Runs a whole CSLE on a 64×64 synthetic scene in a fresh process twice, with the
same, initially empty NUMBA_CACHE_DIR: the first run compiles every kernel and
writes the cache, the second loads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS

CHILD = """
import time, sys
t0 = time.perf_counter()
from pathlib import Path
from shuibao.demo.scene import make_scene
from shuibao.demo.scene_files import write_scene
from shuibao.services.monitoring.erosion import CsleInputs, CsleParams, run_csle
t1 = time.perf_counter()
folder = Path(sys.argv[1])
p = write_scene(make_scene(64, seed=1), folder / "in", stations=3, years=(2022,))
t2 = time.perf_counter()
run_csle(CsleInputs(dem=p["dem"], landuse=p["landuse"], ndvi=p["ndvi"], rain=p["rain"], soil=p["soil"],
                    soil_table=p["soil_table"]), folder / "out", CsleParams())
t3 = time.perf_counter()
print(f'{{"import_s": {t1 - t0:.2f}, "csle_64x64_s": {t3 - t2:.2f}}}')
"""


def main() -> None:
    cache = Path(tempfile.mkdtemp(prefix="numba-cache-"))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    runs = []
    for label in ("first run (empty cache)", "second run (cache warm)"):
        with tempfile.TemporaryDirectory() as work:
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, work], env=env, capture_output=True, text=True,
                                 check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result.update(label=label, process_s=round(time.perf_counter() - t, 2))
            runs.append(result)
            print(json.dumps(result))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "jit.json").write_text(json.dumps(runs, indent=2))
    print(f"JIT cost paid once: {runs[0]['csle_64x64_s'] - runs[1]['csle_64x64_s']:.1f} s")


if __name__ == "__main__":
    main()
