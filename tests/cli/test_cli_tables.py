"""Tables for people: one language (``--lang zh|en`` or SHUIBAO_LANG, default zh) for a table's title, headers
and coded cells, all from the vocabulary; never a raw code in a cell.  CSV keeps the English column codes and
the stored codes (for scripts).  Run over a copy of the demo's database (two runs, supervision records)."""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest

from shuibao import vocabulary
from shuibao.cli.main import run
from shuibao.services.monitoring.runs import list_runs
from shuibao.services.platform import auth

CJK = re.compile(r"[\u3400-\u9fff]")
# every stored code that could show in a cell (the plan's districts too); short ones ("r", "ok") read as words
CODES = {c for g, codes in vocabulary.entries().items() if g not in ("region", "landuse")
         for c in codes if re.fullmatch(r"[a-z][a-z0-9_.]{2,}", c)}


@pytest.fixture(scope="module")
def db(demo, tmp_path_factory) -> str:
    """A copy of the demo's database with a user, an API key and the credit lists of a date."""
    path = str(tmp_path_factory.mktemp("cli-tables") / "tables.gpkg")
    shutil.copy(demo, path)
    auth.create_user(path, "wanzhou-officer", "quiet-harbour-6184", "district_officer", district="wanzhou")
    auth.issue_api_key(path, "水利局", collections="districts,runs")
    assert run(["--db", path, "-q", "supervise", "credit", "update", "--as-of", "2026-06-30", "-f", "csv"]) == 0
    return path


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """Wide enough that no cell folds onto a second line (a folded cell would read as a row of fragments)."""
    monkeypatch.setenv("COLUMNS", "600")


def table(capsys, *args) -> tuple[str, list[str], list[list[str]]]:
    """(title, headers, rows) of the first table a command prints (rich's box drawing)."""
    assert run(list(args)) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    title = " ".join(line.strip() for line in lines[:start])
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("└"))

    def split(line: str, bar: str) -> list[str]:
        return [c.strip() for c in line.strip()[1:-1].split(bar)]

    heads = [split(line, "┃") for line in lines[start:end] if line.startswith("┃")]
    headers = [" ".join(p for p in parts if p) for parts in zip(*heads)]  # a long header folds onto lines
    rows = [split(line, "│") for line in lines[start:end] if line.startswith("│")]
    return title, headers, rows


LISTINGS = [
    ("monitor", "list"), ("monitor", "show", "latest"), ("monitor", "compare", "1", "2"), ("plan", "rates"),
    ("plan", "districts"), ("plan", "audit"), ("plan", "boundaries"), ("plan", "district", "wanzhou"),
    ("report", "plan-progress"), ("users", "list"), ("users", "api-key", "list"), ("supervise", "projects", "list"),
    ("supervise", "cases", "list"), ("supervise", "fees", "list"), ("supervise", "credit", "list", "--as-of", "2026-06-30"),
    ("supervise", "patches", "periods"), ("stations", "list"), ("governance", "progress"),
    ("governance", "progress", "--by", "year"), ("scenario", "list"),
]


@pytest.mark.parametrize("command", LISTINGS, ids=" ".join)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_table_is_in_one_language_with_labels_not_codes(capsys, db, lang, command):
    title, headers, rows = table(capsys, "--db", db, "--lang", lang, *command)
    ids = ("编号", "Code", "ID")  # identifiers (a district's code among them), shown as stored
    code_columns = {i for i, h in enumerate(headers) if h in ids}
    raw = sorted({c for row in rows for i, c in enumerate(row)
                  if c in CODES and i not in code_columns and row[0] not in ids})
    assert raw == [], f"raw codes in cells of `{' '.join(command)}`: {raw}"
    if lang == "zh":
        assert CJK.search(title), title
        assert all(CJK.search(h) for h in headers if h), headers
    else:  # a run's name in the title is a record's name (data), not a word of the table
        words = re.sub("|".join(re.escape(r.name) for r in list_runs(db)), "", title)
        assert title and not CJK.search(words), title
        assert not [h for h in headers if CJK.search(h)], headers


def test_a_run_s_units_in_chinese_and_in_english(capsys, db):
    title, headers, rows = table(capsys, "--db", db, "monitor", "show", "latest")
    assert title.startswith("监测运行 #2：") and title.endswith("（合成数据）")
    assert headers[:3] == ["统计层级", "统计单元", "土地总面积 (km²)"] and headers[-1] == "距目标 (个百分点)"
    fuling = next(r for r in rows if r[1] == "涪陵区")
    assert fuling[0] == "区县" and fuling[2] == "2,944.00"  # the demo's area, with a thousands separator
    assert ["全市", "全市"] in [r[:2] for r in rows]
    title, headers, rows = table(capsys, "--db", db, "--lang", "en", "monitor", "show", "latest")
    assert title.startswith("Monitoring run #2: ") and title.endswith("(SYNTHETIC data)")
    assert headers[:3] == ["Level", "Unit", "Total area (km²)"] and headers[-1] == "Gap to target (pp)"
    assert next(r for r in rows if r[1] == "Fuling")[0] == "District"
    assert ["City", "City"] in [r[:2] for r in rows]


def test_the_language_comes_from_shuibao_lang_and_a_bad_one_is_a_usage_error(capsys, db, monkeypatch):
    monkeypatch.setenv("SHUIBAO_LANG", "en")
    title, headers, rows = table(capsys, "--db", db, "users", "list")
    assert title == "Users" and headers[:3] == ["Username", "Name", "Role"]
    assert ["wanzhou-officer", "wanzhou-officer", "District officer", "Wanzhou", "Active", "Never"] in rows
    monkeypatch.delenv("SHUIBAO_LANG", raising=False)
    title, _, rows = table(capsys, "--db", db, "users", "list")
    assert title == "用户" and ["wanzhou-officer", "wanzhou-officer", "区县监管人员", "万州区", "启用", "从未登录"] in rows
    assert run(["--db", db, "--lang", "fr", "users", "list"]) == 2
    assert "--lang" in capsys.readouterr().err


def test_csv_keeps_the_english_column_codes_and_the_stored_codes_in_either_language(capsys, db):
    for lang in ("zh", "en"):
        assert run(["--db", db, "--lang", lang, "monitor", "show", "latest", "-f", "csv"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("\ufeff")  # the BOM every CSV starts with
        rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
        assert list(rows[0]) == ["level", "name", "total_km2", "slight_km2", "loss_km2", "rate_pct", "target_2025_pct",
                                 "gap_pp"]
        assert rows[0]["level"] == "district" and "city" in {r["level"] for r in rows}


def test_credit_evidence_reads_as_records_not_a_repr(capsys, db):
    _, headers, rows = table(capsys, "--db", db, "--lang", "en", "supervise", "credit", "list", "--as-of", "2026-06-30")
    assert rows, "the demo's overdue cases put builders on a list"
    evidence = [r[headers.index("Evidence")] for r in rows]
    assert all(re.fullmatch(r"Case · \d+(, Case · \d+)*", e) for e in evidence), evidence[:3]
    assert {r[headers.index("List")] for r in rows} <= {"Blacklist", "Watch list"}
