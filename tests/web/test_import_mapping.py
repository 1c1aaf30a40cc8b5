"""The admin forms' mapping step (字段映射) through the web, on both backends: /api/imports/columns reads a file's
columns and prefills each field from the aliases, an import with ``fields`` and a ``source`` stores the mapping
(audited), and the next file of that source comes prefilled from it; a bad mapping is a 422 naming it.  Then the
same in a real browser: the officer maps the issue's projects file on /admin, and the second time the form comes
prefilled with the remembered mapping."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuibao.services.platform import auth
from shuibao.services.platform.database import init
from shuibao.store import Store, schema
from shuibao.web import Settings, create_app

from tests.helpers import bearer, project_row, square, write_layer

from .live import live_server

ADMIN = ("admin", "river-lantern-4127")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("SHUIBAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def bureau_file(folder, codes=("WZ-1",), name="bureau.gpkg"):
    """Issue 19's file: ``project_id``, ``approval_no`` and no area field."""
    rows = []
    for code in codes:
        r = project_row(code, district="万州区")
        r["project_id"], r["approval_no"] = r.pop("code"), r.pop("approval_number")
        r.pop("total_area_hm2")
        rows.append(r)
    return write_layer(folder / name, rows, [square(3000 * i, 0, 200) for i in range(len(rows))])


@pytest.fixture
def store(db_url):
    init(db_url, boundaries=False)
    auth.create_user(db_url, *ADMIN, "city_admin")
    auth.create_user(db_url, "yubei", "yellow-kettle-5823", "district_officer", district="渝北区")
    return db_url


def _upload(path):
    return {"file": (path.name, path.read_bytes(), "application/geopackage+sqlite3")}


def test_columns_prefilled_then_remembered_per_source(store, tmp_path):
    client = TestClient(create_app(Settings(db=store, preload=False)))
    admin = bearer(client, *ADMIN)
    path = bureau_file(tmp_path)
    officer = bearer(client, "yubei", "yellow-kettle-5823")
    r = client.post("/api/imports/columns", headers=officer, files=_upload(path), data={"kind": "projects"})
    assert r.status_code == 403
    r = client.post("/api/imports/columns", headers=admin, files=_upload(path), data={"kind": "projects"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert {"project_id", "approval_no", "name"} <= set(got["columns"]) and got["remembered"] is False
    assert "total_area_hm2" not in got["columns"]
    fields = {f["name"]: f for f in got["fields"]}
    assert fields["name"]["column"] == "name" and fields["name"]["from"] == "alias"
    assert fields["code"]["column"] is None and fields["code"]["required"] is True
    assert fields["total_area_hm2"]["column"] is None and fields["total_area_hm2"]["required"] is False

    mapping = {f: (c or "") for f, c in ((f["name"], f["column"]) for f in got["fields"])}
    mapping |= {"code": "project_id", "approval_number": "approval_no"}
    bad = client.post("/api/projects/import", headers=admin, files=_upload(path),
                      data={"fields": json.dumps(mapping | {"approval_date": "批复日"}), "source": "万州区台账"})
    assert bad.status_code == 422 and "the file has no column '批复日'" in bad.text
    assert client.post("/api/projects/import", headers=admin, files=_upload(path),
                       data={"fields": "code=project_id"}).status_code == 422  # not a JSON object
    r = client.post("/api/projects/import", headers=admin, files=_upload(path),
                    data={"fields": json.dumps(mapping), "source": "万州区台账"})
    assert r.status_code == 201, r.text
    assert r.json()["computed_areas"] == 1 and "computed from the polygon" in r.json()["rows"][0]["messages"]
    with Store(store) as s, s.reading() as conn:
        stored = conn.execute(select(schema.import_mappings)).one()
    assert (stored.kind, stored.source, stored.recorded_by) == ("projects", "万州区台账", "admin")
    assert json.loads(stored.mapping_json)["code"] == "project_id"
    entry = auth.audit_entries(store, principal=auth.SYSTEM, kind="import_mapping", limit=1)[0]
    assert entry["action"] == "imports.mapping" and entry["actor"] == "admin"

    # the next file of the source: prefilled from the remembered mapping; another source: from the aliases
    nxt = bureau_file(tmp_path, ("WZ-2",), "next.gpkg")
    again = client.post("/api/imports/columns", headers=admin, files=_upload(nxt),
                        data={"kind": "projects", "source": "万州区台账"}).json()
    fields = {f["name"]: f for f in again["fields"]}
    assert again["remembered"] is True and again["recorded_by"] == "admin"
    assert (fields["code"]["column"], fields["code"]["from"]) == ("project_id", "remembered")
    assert fields["approval_number"]["column"] == "approval_no"
    other = client.post("/api/imports/columns", headers=admin, files=_upload(nxt),
                        data={"kind": "projects", "source": "别的来源"}).json()
    assert other["remembered"] is False and {f["name"]: f for f in other["fields"]}["code"]["column"] is None
    assert client.post("/api/imports/columns", headers=admin, files=_upload(nxt),
                       data={"kind": "bananas"}).status_code == 422


def test_without_a_source_name_the_mapping_is_remembered_by_the_columns(store, tmp_path):
    client = TestClient(create_app(Settings(db=store, preload=False)))
    admin = bearer(client, *ADMIN)
    path = bureau_file(tmp_path)
    r = client.post("/api/projects/import", headers=admin, files=_upload(path),
                    data={"fields": json.dumps({"code": "project_id", "approval_number": "approval_no"})})
    assert r.status_code == 201, r.text
    again = client.post("/api/imports/columns", headers=admin, files=_upload(bureau_file(tmp_path, ("X",), "x.gpkg")),
                        data={"kind": "projects"}).json()
    assert again["remembered"] is True and again["source"].startswith("columns:")
    assert {f["name"]: f["column"] for f in again["fields"]}["code"] == "project_id"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_the_mapping_step_in_the_browser(store, tmp_path, request):
    from playwright.sync_api import expect, sync_playwright

    tag = request.node.callspec.id
    first, second = bureau_file(tmp_path, ("WZ-1",)), bureau_file(tmp_path, ("WZ-2", "WZ-3"), "second.gpkg")
    with live_server(store) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url + "/login")
        page.fill("#username", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("#login-submit")
        page.wait_for_url(url + "/dashboard")
        page.goto(url + "/admin")
        form = page.locator("#form-projects")
        form.locator("input[name=source]").fill("万州区台账")
        form.locator("input[name=file]").set_input_files(str(first))
        mapping = form.locator("fieldset.mapping")
        expect(mapping).to_be_visible()
        code = mapping.locator("select[data-field=code]")
        # the fields by their labels; prefilled from the aliases, the bureau's names unmapped
        expect(mapping.locator("th[title=code]")).to_have_text("编号（必填）")
        expect(code).to_have_value("")
        expect(mapping.locator("select[data-field=name]")).to_have_value("name")
        expect(mapping.locator(".mapping-note")).to_have_text("已按字段别名预填")
        area = mapping.locator("select[data-field=total_area_hm2]")
        expect(area).to_have_value("")  # the file has no area: the note says what happens
        expect(mapping.locator("tr", has=page.locator("select[data-field=total_area_hm2]")).locator(".mapping-hint")).to_have_text("没有时按图形计算面积，并标记为计算值")
        form.locator("button[type=submit]").click()  # unmapped: refused, naming the fields
        expect(form.locator(".error")).to_contain_text("未导入任何数据")  # the sentence, not a status code
        expect(form.locator(".result")).to_contain_text("code")  # each problem once, below it
        code.select_option("project_id")
        mapping.locator("select[data-field=approval_number]").select_option("approval_no")
        form.locator("button[type=submit]").click()
        expect(form.locator(".result")).to_contain_text("按图形计算面积的项目")  # computed_areas, by its label
        with Store(store) as s, s.reading() as conn:
            assert conn.execute(select(schema.projects.c.total_area_computed)).scalars().all() == [True]
        page.goto(url + "/projects/WZ-1")  # the project's page says where its area came from
        flag = page.locator("#fields tr", has_text="责任范围面积按图形计算")
        expect(flag.locator("td")).to_have_text("是")
        expect(page.locator("#fields tr", has_text="项目总面积").locator("td")).to_contain_text("4")

        page.goto(url + "/admin")  # the second file of the source: the remembered mapping is prefilled
        form = page.locator("#form-projects")
        form.locator("input[name=source]").fill("万州区台账")
        form.locator("input[name=file]").set_input_files(str(second))
        mapping = form.locator("fieldset.mapping")
        expect(mapping.locator(".mapping-note")).to_have_text("已按该来源上次保存的映射预填")
        expect(mapping.locator("select[data-field=code]")).to_have_value("project_id")
        expect(mapping.locator("select[data-field=approval_number]")).to_have_value("approval_no")
        SHOTS.mkdir(parents=True, exist_ok=True)
        form.screenshot(path=str(SHOTS / f"admin-mapping-{tag}.png"))
        form.locator("button[type=submit]").click()
        expect(form.locator(".result")).to_contain_text("2")
        browser.close()
    with Store(store) as s, s.reading() as conn:
        codes = sorted(conn.execute(select(schema.projects.c.code)).scalars())
    assert codes == ["WZ-1", "WZ-2", "WZ-3"]
