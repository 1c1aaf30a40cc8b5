"""Every error and validation message in both languages: N_ templates, the zh_CN catalogue, the CLI and web."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shuibao.errors import N_, InputError, Issue, Issues, format_issues, render_error
from shuibao.services.platform.database import init
from shuibao.web import Settings, create_app, i18n

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import i18n_catalogue  # noqa: E402

DONE = ("src/shuibao/",)  # every message has its Chinese


def test_a_message_is_english_by_str_and_chinese_by_render():
    msg = N_("the body is not valid JSON: {exc}", exc="Expecting value")
    assert str(msg) == "the body is not valid JSON: Expecting value"
    assert msg.render("zh") == "请求体不是有效的 JSON：Expecting value"
    err = InputError(msg)
    assert str(err) == "the body is not valid JSON: Expecting value" and render_error(err, "en") == str(err)
    assert render_error(err, "zh").startswith("请求体不是有效的 JSON")
    assert msg == "the body is not valid JSON: Expecting value"  # equals the str it replaced


def test_a_missing_translation_falls_back_to_english_and_fields_render_in_the_same_language():
    assert N_("no such template {x}", x=1).render("zh") == "no such template 1"
    outer = N_("{exc} (expected addresses or networks like 10.0.0.0/8, separated by commas)",
               exc=N_("expected zh or en"))
    assert outer.render("zh") == "应为 zh 或 en（应为以逗号分隔的地址或网段，例如 10.0.0.0/8）"


def test_the_issue_list_renders_in_chinese():
    issues = Issues()
    issues.add("a.csv", "row 2", N_("expected zh or en"))
    text = format_issues(issues, "run.toml")
    assert str(text).splitlines() == ["run.toml: 1 problem(s):", "  - a.csv row 2: expected zh or en"]
    assert text.render("zh").splitlines() == ["run.toml: 1 个问题:", "  - a.csv row 2：应为 zh 或 en"]
    assert Issue("", "", N_("expected zh or en")).render("zh") == "应为 zh 或 en"


def test_the_catalogue_check_finds_no_english_only_message_and_no_broken_translation():
    found = i18n_catalogue.extract()
    catalog = i18n_catalogue.load()
    listed = i18n_catalogue.problems(found, catalog)
    english_only = [p for p in listed if "English-only" in p or "N_ needs" in p]
    broken = [p for p in listed if ": fields differ:" in p or "not in the catalogue" in p]
    untranslated_done = [p for p in listed if "no Chinese" in p and p.startswith(DONE)]
    assert english_only == [] and broken == [] and untranslated_done == [], english_only + broken + untranslated_done


def test_the_check_fails_on_a_plain_string_and_on_changed_fields(tmp_path):
    src = tmp_path / "m.py"
    src.write_text('from shuibao.errors import N_, InputError\n'
                   'raise InputError(f"bad {x}")\nraise InputError(N_("expected zh or en"))\n'
                   'problems += [f"{k}: unknown" for k in ks]\n')
    found = i18n_catalogue.extract(tmp_path)
    assert sorted(p.split(":")[1] for p in found.plain if "English-only" in p) == ["2", "4"]
    catalog = i18n_catalogue.load()
    catalog.get("expected {name}").string = "应为 {other}"
    found.templates = {"expected {name}": [("m.py", 1)]}
    assert any(": fields differ:" in p for p in i18n_catalogue.problems(found, catalog))


def test_the_cli_says_a_bad_input_in_chinese_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SHUIBAO_LANG", raising=False)
    cmd = [sys.executable, "-m", "shuibao.cli.main", "--db", str(tmp_path / "x.gpkg"), "report", "district",
           "-o", str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr == "错误：请指定一个或多个区县，或使用 --all（二者不可同时使用）\n"
    monkeypatch.setenv("SHUIBAO_LANG", "en")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr == "error: name one or more districts, or give --all (not both)\n"
    monkeypatch.delenv("SHUIBAO_LANG")
    proc = subprocess.run(cmd[:3] + ["--lang", "en"] + cmd[3:], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: name one or more districts")  # --lang too


@pytest.fixture
def web(tmp_path):
    db = str(tmp_path / "w.gpkg")
    init(db, boundaries=False)
    return TestClient(create_app(Settings(db=db)))


def test_a_422_is_chinese_by_default_and_english_by_accept_language(web, monkeypatch):
    monkeypatch.setattr(i18n, "ERROR_LANGUAGE", None)  # the settings' default: zh
    tile = "/tiles/tiles/WebMercatorQuad/3/0/0.png?run=latest&layer=grade"
    zh = web.get(tile)
    assert zh.status_code == 401 and zh.json()["detail"] == "请先登录（POST /api/login），或提供 API 密钥"
    assert zh.json()["detail_en"] == "log in first (POST /api/login), or send an API key"
    en = web.get(tile, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert en.json() == {"detail": "log in first (POST /api/login), or send an API key"}
    assert web.get(tile + "&lang=en").json()["detail"].startswith("log in first")
    missing = web.post("/api/login", json={})
    assert missing.status_code == 422 and missing.json()["detail"][0]["msg"] == "缺少必填字段"
    assert web.post("/api/login", json={}, headers={"Accept-Language": "en"}).json()["detail"][0]["msg"] \
        == "Field required"


def test_a_transform_reaches_paths_and_nested_messages():
    msg = N_("{path}: {why}", path=Path("/tmp/x/a.tif"), why=InputError(N_("the body is not valid JSON: {exc}",
                                                                             exc="/tmp/x/b")))
    cut = msg.transform(lambda text: text.replace("/tmp/x/", ""))
    assert str(cut) == "a.tif: the body is not valid JSON: b"
    assert cut.render("zh") == "a.tif: 请求体不是有效的 JSON：b"


def test_a_translators_fragment_merges_and_a_changed_field_is_refused(tmp_path):
    def blanked():  # the catalogue as a translator finds it: grid.py's entries not yet translated
        catalog = i18n_catalogue.load()
        for m in catalog:
            if m.id and any(f == "src/shuibao/grid.py" for f, _ in m.locations):
                m.string = ""
        return catalog

    catalog = blanked()
    fragment = i18n_catalogue.untranslated(i18n_catalogue.extract(), catalog, ROOT / "src/shuibao/grid.py")
    ids = [m.id for m in fragment if m.id]
    assert ids and all(not catalog.get(i).string for i in ids)
    template = ids[0]
    fragment.get(template).string = "（中文）" + " ".join("{%s}" % f for f in sorted(i18n_catalogue.fields_of(template)))
    path = tmp_path / "grid.po"
    i18n_catalogue.save(fragment, path)
    assert i18n_catalogue.merge(catalog, path) == [] and catalog.get(template).string.startswith("（中文）")
    fragment.get(template).string = "（中文）{nope}"
    i18n_catalogue.save(fragment, path)
    catalog = blanked()
    assert len(i18n_catalogue.merge(catalog, path)) == 1 and not catalog.get(template).string
