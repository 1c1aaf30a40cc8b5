"""`shuibao demo`: the main job end to end on SYNTHETIC inputs over the real district boundaries.

1. the database: schema, the plan's reference data and the district boundaries;
2. synthetic inputs for two years over the city (:mod:`shuibao.demo.inputs`),
   each with a run spec;
3. the annual monitoring run of each year (:func:`run_monitoring`);
4. the year-over-year comparison, written as tables beside the runs;
5. a year of project supervision on synthetic records (:mod:`shuibao.demo.supervision`).

Every output is labelled synthetic (raster tags, table titles, GeoPackage layers,
the runs in the database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shuibao.io import tables as tio
from shuibao.store import Store
from shuibao.store.reference_loader import read_boundaries
from shuibao.services.platform import database
from shuibao.demo.inputs import write_demo_inputs
from shuibao.services.monitoring.annual_run import EventCallback, RunResult, run_monitoring
from shuibao.demo.check import compare_with_2020
from shuibao.services.monitoring.runs import compare_runs

YEARS = (2024, 2025)


@dataclass
class DemoResult:
    db: str
    specs: list[Path]
    runs: list[RunResult]
    comparison: dict
    comparison_files: list[Path]
    supervision: object | None = None
    web_login: Path | None = None  # the demo account's name and password for `shuibao serve`
    plan_check: list | None = None  # the first year against the plan's 2020 picture (demo_check.CheckRow)
    plan_check_file: Path | None = None


def _has_boundaries(db: str) -> bool:
    try:
        with Store(db) as store, store.reading() as conn:
            store.require_current(conn)
            return bool(read_boundaries(conn))
    except Exception:  # noqa: BLE001 - missing file, old schema: (re)initialise
        return False


COMPARE_COLUMNS = [
    tio.Column("level", "层级", "level"), tio.Column("code", "代码", "code"), tio.Column("name", "区县/区域", "unit"),
    tio.Column("rate_a", "前一年水土保持率", "rate, earlier", "%", 2),
    tio.Column("rate_b", "本年水土保持率", "rate, later", "%", 2),
    tio.Column("d_rate_pp", "变化", "change", "pp", 2),
    tio.Column("d_slight_km2", "微度面积变化", "change of slight area", "km²", 2),
    tio.Column("d_loss_km2", "水土流失面积变化", "change of soil-loss area", "km²", 2),
    *[tio.Column(f"d_{g}_km2", f"{zh}面积变化", f"change of {g.replace('_', ' ')}", "km²", 2)
      for g, zh in (("light", "轻度"), ("moderate", "中度"), ("intense", "强烈"), ("very_intense", "极强烈"),
                    ("severe", "剧烈"))],
    tio.Column("target_2025_pct", "2025年目标", "2025 target", "%", 2),
    tio.Column("gap_b_pp", "距目标", "gap to target", "pp", 2),
    tio.Column("toward_target", "趋势", "toward target"),
]


def write_comparison(c: dict, folder: Path) -> list[Path]:
    """The unit changes and the transition matrix (km² and cells) as CSV and one XLSX workbook."""
    a, b = c["a"], c["b"]
    title = f"{a.year}—{b.year} 年水土流失动态变化（监测成果 {a.id} → {b.id}）"
    names = c["grade_names"]
    cols = [tio.Column("from_grade", "前一年强度", "grade, earlier")] + [
        tio.Column(f"to_{i}", f"本年{names[i]}", f"to grade {i}", "km²", 3) for i in range(1, 7)]
    syn = c["synthetic"]
    tables = [tio.Table("changes_by_unit", f"分区水土保持率变化 — {title}", COMPARE_COLUMNS, c["units"],
                        ["趋势：reached 已达目标；toward 向目标靠近；away 偏离目标。"], syn, "分区变化")]
    if c["transition_cells"] is not None:
        km2, cells = c["transition_km2"], c["transition_cells"]
        matrix = [{"from_grade": names[i], **{f"to_{j}": float(km2[i, j]) for j in range(1, 7)}}
                  for i in range(1, 7)]
        cell_cols = [tio.Column(col.key, col.zh, col.en, "cells" if col.unit else "", None) for col in cols]
        cell_rows = [{"from_grade": names[i], **{f"to_{j}": int(cells[i, j]) for j in range(1, 7)}}
                     for i in range(1, 7)]
        tables += [tio.Table("transition_km2", f"侵蚀强度转移矩阵（km²）— {title}", cols, matrix,
                             ["行：前一年强度；列：本年强度。"], syn, "强度转移（km²）"),
                   tio.Table("transition_cells", f"侵蚀强度转移矩阵（网格数）— {title}", cell_cols, cell_rows, [],
                             syn, "强度转移（网格数）")]
    folder.mkdir(parents=True, exist_ok=True)
    paths = [tio.write_csv(folder / f"{t.name}.csv", t) for t in tables]
    paths.append(tio.write_xlsx(folder / "comparison.xlsx", tables, timestamp=datetime(b.year, 12, 31, tzinfo=UTC)))
    return paths


def run_demo(out: Path, *, resolution_m: float = 100.0, db: str | None = None,
             on_event: EventCallback | None = None, say: Callable[[str], None] | None = None,
             with_supervision: bool = True) -> DemoResult:
    """Database, synthetic inputs, two annual runs and their comparison, all under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = db or str(out / "shuibao.gpkg")
    say = say or (lambda _: None)
    if not _has_boundaries(db):
        say(f"database {db}: schema, plan reference data and district boundaries")
        database.init(db)
    say(f"synthetic inputs over the real districts at {resolution_m:g} m → {out / 'inputs'}")
    specs = write_demo_inputs(out, resolution_m=resolution_m, years=YEARS)
    runs = []
    for spec in specs:
        say(f"monitoring run {spec.name}")
        runs.append(run_monitoring(spec, db, on_event=on_event))
    comparison = compare_runs(db, str(runs[0].run_id), str(runs[-1].run_id))
    files = write_comparison(comparison, out / f"compare-{YEARS[0]}-{YEARS[-1]}")
    check = compare_with_2020(db, str(runs[0].run_id))
    check_file = write_check(check, out / f"plan-2020-check-{YEARS[0]}.csv", runs[0].run_id)
    supervision = None
    if with_supervision and not _has_supervision(db):
        from shuibao.demo.supervision import run_supervision_demo

        say(f"supervision {YEARS[-1]} on synthetic projects and patches → {out / 'supervision'}")
        supervision = run_supervision_demo(db, out / "supervision", year=YEARS[-1])
        from shuibao.demo.governance import run_governance_demo

        say(f"treatment patches 2021–{YEARS[-1]} (synthetic) → {out / 'supervision'}")
        supervision.governance = run_governance_demo(db, out / "supervision", year=YEARS[-1])
        from shuibao.demo.governance import run_stations_demo

        say(f"stations, the wettest day's warning and the {YEARS[-1]} assessment (synthetic)")
        supervision.stations = run_stations_demo(db, out / "inputs" / f"rain-{YEARS[-1]}.csv", out / "supervision",
                                                 year=YEARS[-1])
        from shuibao.errors import InputError
        from shuibao.services.governance.scenarios import run_scenario

        say("scenario: the planned and ongoing treatment patches built, against the latest run")
        try:
            supervision.scenario = run_scenario(db, name="规划治理图斑建成后（合成）", out=out / "scenario",
                                                actor="demo（合成数据）")
        except InputError as exc:  # at a coarse resolution the patches may hold no cell centre
            say(f"scenario skipped: {exc}")
    return DemoResult(db, specs, runs, comparison, files, supervision, _demo_login(db, out), check, check_file)


CHECK_COLUMNS = [tio.Column("label", "指标", "figure"), tio.Column("plan_2020", "规划2020年监测值", "plan, 2020"),
                 tio.Column("demo", "演示首年", "demo, first year"), tio.Column("bound", "允许偏差", "bound"),
                 tio.Column("holds", "是否满足", "holds")]


def write_check(rows: list, path: Path, run_id: int) -> Path:
    """The comparison with the plan's 2020 picture as a CSV beside the runs (labelled synthetic)."""
    table = tio.Table("plan_2020_check", f"演示首年（监测成果 {run_id}）与规划 2020 年监测结果对比", CHECK_COLUMNS,
                      [{"label": r.label, "plan_2020": r.plan_2020, "demo": r.demo, "bound": r.bound,
                        "holds": "是" if r.holds else "否"} for r in rows],
                      ["规划值：附表1、表2。演示数据为合成数据，不是重庆的观测。"], True)
    return tio.write_csv(path, table)


DEMO_USER = "demo"


def _demo_login(db: str, out: Path) -> Path | None:
    """A city-administrator account for browsing the demo in `shuibao serve`, with a random password written to
    OUT/web-login.txt (readable by its owner only); kept as it is on a rerun."""
    import os
    import secrets

    from shuibao.errors import InputError
    from shuibao.io.atomic import atomic_path

    try:
        from shuibao.services.platform.auth import create_user
    except ImportError:  # installed without the web extra: nothing to log in to
        return None
    from shuibao.services.platform.passwords import problems

    path = out / "web-login.txt"
    password = secrets.token_urlsafe(12)  # 16 characters; drawn again in the rare case the policy refuses it
    while problems(password, DEMO_USER):
        password = secrets.token_urlsafe(12)
    try:
        create_user(db, DEMO_USER, password, "city_admin", display_name="演示管理员（合成数据）")
    except InputError:  # taken: the account (and its file) from an earlier demo into this database
        return path if path.exists() else None
    with atomic_path(path) as tmp:
        os.chmod(tmp, 0o600)  # before the password is in it
        tmp.write_text(f"# shuibao serve --db {db}  →  http://127.0.0.1:8000\nusername: {DEMO_USER}\n"
                       f"password: {password}\n", encoding="utf-8")
    return path


def _has_supervision(db: str) -> bool:
    """A rerun of the demo keeps the supervision records it made the first time (imports refuse duplicates)."""
    from sqlalchemy import func, select

    from shuibao.store import schema

    with Store(db) as store, store.reading() as conn:
        return bool(conn.execute(select(func.count()).select_from(schema.projects)).scalar())
