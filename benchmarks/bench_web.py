"""Load on the web platform: map-extent feature requests with 50 concurrent clients over 11,000 patches, and a
concurrent-edit test (no lost writes).

The store holds the synthetic supervision scene (6,500 projects, 11,000 patches with their compliance
analysis).  ``shuibao serve`` runs in a child process (uvicorn, ``--workers``); 50 asyncio clients each ask
for the patches in a random map extent (about 20 km × 20 km, ``limit=2000``, as the map does at district
zoom) with an API key — once back to back, once with about a second between requests (a person panning),
and a few back to back over the whole city (2,000 of the 11,000 patches per answer, the heaviest view).
Then 50 clients add one note each to the same case at the same moment, retrying on 409; the case must end
with exactly 50 more steps.  The clients share the 2 cores with the server.

    python benchmarks/bench_web.py [--clients 50] [--requests 20] [--workers 2] [--db POSTGIS_URL]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common  # noqa: F401  (puts src/ on the path)
import httpx
import numpy as np

from shuibao.io.features import FeatureSet, write_features
from shuibao.services.platform import auth
from shuibao.services.supervision import cases, compliance, patches, projects
from shuibao.services.platform.database import init
from shuibao.demo.supervision_records import make_supervision_scene


def build(db: str, work: Path, n_projects: int = 6500, n_patches: int = 11000
          ) -> tuple[str, str, tuple[float, float, float, float]]:
    init(db, boundaries=True)
    scene = make_supervision_scene(n_projects, n_patches, seed=2)
    pf, tf = work / "projects.gpkg", work / "patches.gpkg"
    write_features(pf, [FeatureSet("projects", scene.projects, scene.project_geoms)], scene.crs)
    write_features(tf, [FeatureSet("patches", scene.patches, scene.patch_geoms)], scene.crs)
    projects.import_projects(db, pf)
    patches.import_patches(db, tf)
    compliance.run_compliance(db)
    auth.create_user(db, "admin", "bench-window-7390", "city_admin")
    key = auth.issue_api_key(db, "bench", collections=["patches", "runs"])  # what the load reads
    from datetime import date

    case_no = cases.open_case(db, title="并发编辑测试", category="other", on=date(2025, 7, 1), district="渝北区")
    from shuibao.services.platform.features import extent

    return key, case_no, tuple(extent(db, "patches"))


def serve(db: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, SHUIBAO_DB=db, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "shuibao.web.app:create_app", "--factory", "--port",
                             str(port), "--workers", str(workers), "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # an orphan must not hold our pipes
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                time.sleep(5)  # one worker answers; give the others time to finish preloading the map layers
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


async def _get(reader, writer, path: str, headers: str) -> tuple[int, bytes]:
    """One GET on a kept-alive HTTP/1.1 connection: (status, body)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(int(v.split(b":", 1)[1]) for v in lines if v.lower().startswith(b"content-length:"))
    return int(lines[0].split()[1]), await reader.readexactly(length)


def load(port: int, key: str, box, clients: int, per_client: int, seed: int = 0, think_s: float = 0.0,
         span: float | None = 0.2) -> dict:
    """``clients`` concurrent clients, one kept-alive connection each, each asking ``per_client`` map extents and
    waiting ``think_s`` between them (0: back to back); ``span`` is the extent's side in degrees (about 20 km,
    a district on screen), ``None`` the whole city.

    The load generator is a few lines of asyncio rather than httpx: it shares the 2 cores with the server, and
    httpx spends more CPU on a request than the server does, so it measured itself.  Every answer is still
    parsed and its feature count checked against ``numberMatched``/``limit``."""
    import asyncio
    from urllib.parse import quote

    x0, y0, x1, y1 = box
    lat: list[float] = []
    errors: list[str] = []
    returned: list[int] = []

    reconnects: list[int] = []

    async def client(i: int) -> None:
        rng = np.random.default_rng(seed + i)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in range(per_client):
                if span is None:
                    extent = (x0, y0, x1, y1)
                else:
                    lon, la = rng.uniform(x0, x1 - span), rng.uniform(y0, y1 - span)
                    extent = (lon, la, lon + span, la + span)
                path = "/ogc/collections/patches/items?limit=2000&bbox=" + quote(",".join(map(str, extent)))
                t = time.perf_counter()
                try:
                    status, body = await _get(reader, writer, path, f"X-API-Key: {key}\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    # the server closed the kept-alive connection first (its idle timeout): as any HTTP client
                    # does, reconnect and send the request again — counted, and timed from the first attempt
                    reconnects.append(i)
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status, body = await _get(reader, writer, path, f"X-API-Key: {key}\r\n")
                lat.append(time.perf_counter() - t)
                if status != 200:
                    errors.append(f"{status}: {body[:100]!r}")
                    continue
                # every answer's head is read; the whole answer is parsed and its features counted for the first
                # and every tenth of each client (parsing a megabyte costs the shared cores 30 ms)
                head = json.loads(body[:body.index(b',"features":')] + b"}")
                returned.append(head["numberReturned"])
                if head["numberReturned"] != min(head["numberMatched"], 2000):
                    errors.append(f"numberReturned {head['numberReturned']} of {head['numberMatched']} matched")
                if n % 10 == 0 and len(json.loads(body)["features"]) != min(head["numberMatched"], 2000):
                    errors.append(f"features ≠ numberReturned {head['numberReturned']}")
                if think_s:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
        finally:
            writer.close()

    async def run() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*[client(i) for i in range(clients)])
        return time.perf_counter() - t0

    wall = asyncio.run(run())
    ms = np.array(lat) * 1000
    return {"think_s": think_s, "span_deg": span, "requests": len(lat), "errors": len(errors),
            "first_errors": errors[:3], "reconnects": len(reconnects),
            "wall_s": round(wall, 2), "per_s": round(len(lat) / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "mean_features": round(float(np.mean(returned)), 1) if returned else 0}


def edits(base: str, db: str, case_no: str, clients: int) -> dict:
    with httpx.Client(base_url=base) as c:
        token = c.post("/api/login", json={"username": "admin", "password": "bench-window-7390"}).json()["token"]
    before = len(cases.get_case(db, case_no).events)
    conflicts, errors = [], []
    start = threading.Barrier(clients, timeout=120)  # a client that fails to get there breaks it, not hangs it

    def client(i: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            start.wait()
            for _attempt in range(50):
                r = c.post(f"/api/cases/{case_no}/steps", data={"step": "note", "on": "2025-07-02",
                                                                "note": f"client {i}"})
                if r.status_code == 409:
                    conflicts.append(i)
                    time.sleep(0.01)
                    continue
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:100]}")
                return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    events = cases.get_case(db, case_no).events
    notes = sorted(int(e["note"].split()[1]) for e in events if e["note"].startswith("client "))
    return {"writers": clients, "steps_added": len(events) - before, "conflicts_retried": len(conflicts),
            "errors": len(errors), "first_errors": errors[:3], "lost_writes": clients - len(set(notes)),
            "duplicates": len(notes) - len(set(notes)),
            "seq_gapless": [e["seq"] for e in events] == list(range(1, len(events) + 1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20, help="Per client.")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--patches", type=int, default=11000)
    ap.add_argument("--projects", type=int, default=6500)
    ap.add_argument("--db", default=None, help="An empty PostGIS database URL (default: a GeoPackage).")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--results", type=Path, default=common.RESULTS)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="shuibao-web-"))
    work.mkdir(parents=True, exist_ok=True)
    db = args.db or str(work / "web.gpkg")
    if args.db is None:
        Path(db).unlink(missing_ok=True)
    t = time.perf_counter()
    key, case_no, box = build(db, work, args.projects, args.patches)
    row = {"backend": "postgis" if "://" in db else "geopackage", "patches": args.patches, "projects": args.projects,
           "clients": args.clients, "workers": args.workers, "build_s": round(time.perf_counter() - t, 1)}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = serve(db, port, args.workers)  # kills the server itself if it does not start
    try:
        base = f"http://127.0.0.1:{port}"
        row["extent_requests"] = load(port, key, box, args.clients, args.requests)
        row["extent_requests_think_1s"] = load(port, key, box, args.clients, args.requests, seed=1000,
                                               think_s=1.0)
        row["whole_city_requests"] = load(port, key, box, args.clients, max(args.requests // 10, 2), seed=2000,
                                          span=None)
        row["concurrent_edits"] = edits(base, db, case_no, args.clients)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"web_{row['backend']}.json").write_text(json.dumps(row, indent=1, ensure_ascii=False))
    print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
