"""City-scale monitoring run: the whole of Chongqing at 30 m (≈ 92 M cells with data, ≈ 235 M in the box).

    python benchmarks/bench_monitoring.py --resolution 30 --work /tmp/shuibao-city

Generates the synthetic city inputs once (cached in WORK), initialises a database with the district
boundaries, then times ``shuibao monitor run`` in a fresh process (warm numba cache: a tiny run first)
and reads that process's peak resident memory (VmHWM, sampled from /proc while it runs, the maximum
the kernel records). Each step's time comes from the run's provenance.json. Results go to
benchmarks/results/monitoring_<res>m.json and one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS  # noqa: F401 - also puts src/ on the path

from shuibao.services.platform import database  # noqa: E402
from shuibao.demo.inputs import write_demo_inputs  # noqa: E402


def _vmhwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, from /proc/stat)."""
    with open("/proc/stat") as fh:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fh.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_cli(args: list[str], env: dict) -> tuple[float, float, str, dict]:
    """Wall seconds, peak RSS (MiB) of the child, its stderr, and its CPU seconds with the machine's load.

    The CPU seconds (user + system, all threads) and the 1-minute load average before and after tell a
    slow run on a shared machine from a slow code: other jobs stretch the wall time, not the CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    busy_before = _machine_busy_s()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "shuibao.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _vmhwm_kib(proc.pid) or 0)
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}):\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    cpu = {"user_s": round(user, 1), "system_s": round(system, 1),
           # CPU seconds the rest of the machine (other jobs, this script's sampling) took meanwhile
           "others_s": round(_machine_busy_s() - busy_before - user - system, 1),
           "load_1min_before": round(load_before, 2), "load_1min_after": round(os.getloadavg()[0], 2)}
    return wall, peak / 1024, err + out, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=30.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/shuibao-city"))
    ap.add_argument("--engine", choices=("memory", "dask"), default="memory")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    work = args.work / f"{args.resolution:g}m"
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    db = str(work / "shuibao.gpkg")
    if not Path(db).exists():
        database.init(db)
    t = time.perf_counter()
    spec = write_demo_inputs(work, resolution_m=args.resolution, years=(2025,))[0]
    inputs_s = time.perf_counter() - t
    if args.engine == "dask":
        text = spec.read_text(encoding="utf-8") + '\n[execution]\nengine = "dask"\nworkers = 2\n'
        spec = spec.with_name("monitor-2025-dask.toml")
        spec.write_text(text.replace('output = "output/2025"', 'output = "output/2025-dask"'), encoding="utf-8")
    out = work / ("output/2025-dask" if args.engine == "dask" else "output/2025")
    shutil.rmtree(out, ignore_errors=True)  # time a whole run, not a resumed one
    _forget_runs(db)
    wall, peak, log, cpu = run_cli(["-q", "--db", db, "monitor", "run", str(spec)], env)
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    row = {"resolution_m": args.resolution, "engine": args.engine, "grid": prov["grid"]["shape"],
           "cells_with_data": prov["grid"]["valid_cells"], "wall_s": round(wall, 1), "peak_rss_mib": round(peak),
           "child_cpu": cpu,
           "inputs_generation_s": round(inputs_s, 1), "steps_s": prov["timings_s"],
           "erosion_substeps_s": prov["steps"]["erosion"]["result"].get("timings_s"),
           "watersheds": prov["steps"]["watersheds"]["result"].get("count"), "cpus": os.cpu_count()}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"monitoring_{args.resolution:g}m_{args.engine}.json").write_text(json.dumps(row, indent=1))
    print(json.dumps(row))


def _forget_runs(db: str) -> None:
    """Delete earlier runs from the database so the timed run stores afresh."""
    from shuibao.services.monitoring.runs import delete_run, list_runs
    for r in list_runs(db):
        delete_run(db, str(r.id))


if __name__ == "__main__":
    main()
