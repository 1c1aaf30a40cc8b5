"""The review's browser attacks replayed in a real browser (Playwright driving Debian's Chromium): a victim logged
in to the platform on 127.0.0.1:A opens an attacker's page on 127.0.0.1:B — the same site, another origin — that
auto-submits a multipart form, fires ``fetch(no-cors)`` writes, posts a logout form and frames a case page.
Nothing may be written, the victim must stay logged in, and the frame must stay empty.  The API documentation
must render from the vendored Swagger UI and ReDoc under the Content-Security-Policy."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from datetime import date

import pytest

from shuibao.services.platform import auth
from shuibao.services.supervision.cases import get_case, open_case
from shuibao.services.platform.database import init
from ..web.live import free_port, live_server

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("SHUIBAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "Quarry-Heron-5721"


@pytest.fixture
def platform(tmp_path):
    db = str(tmp_path / "csrf.gpkg")
    init(db, boundaries=False)
    auth.create_user(db, "offa", PASSWORD, "district_officer", district="渝北区")
    no = open_case(db, title="现场检查", category="other", on=date.today(), district="渝北区", actor="test")
    with live_server(db, preload=False) as url:
        yield db, url, no


def _attacker(folder, target: str, case_no: str) -> tuple[str, http.server.ThreadingHTTPServer]:
    """The attacker's page on another port of the same host (the review's csrf/*.html, all at once)."""
    today = date.today().isoformat()
    (folder / "attack.html").write_text(f"""<!doctype html><html><body>
<form id="f" method="POST" action="{target}/api/cases/{case_no}/steps" enctype="multipart/form-data" target="sink">
<input name="step" value="verify"><input name="outcome" value="not_confirmed"><input name="on" value="{today}">
<input name="note" value="forged by a form"></form>
<form id="out" method="POST" action="{target}/api/logout" target="sink2"></form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<iframe id="framed" src="{target}/cases/{case_no}"></iframe>
<script>
const data = new FormData(); data.append("step", "note"); data.append("on", "{today}"); data.append("note", "forged by fetch");
fetch("{target}/api/cases/{case_no}/steps", {{method: "POST", mode: "no-cors", credentials: "include", body: data}})
  .finally(() => {{ document.getElementById("f").submit(); document.getElementById("out").submit();
                    setTimeout(() => document.body.dataset.done = "1", 1500); }});
</script></body></html>""", encoding="utf-8")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder))  # noqa: E731
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}/attack.html", srv


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_a_page_on_another_port_can_neither_write_log_out_nor_frame(platform, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    db, site, case_no = platform
    attack_url, attacker = _attacker(tmp_path, site, case_no)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(site + "/login")
            page.fill("#username", "offa")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(site + "/dashboard")
            # the victim's own page writes: the platform's scripts send the header the guard asks for
            page.goto(site + f"/cases/{case_no}")
            page.select_option("#step", "note")
            page.fill("#on", date.today().isoformat())
            page.fill("#note", "own note")
            page.click("#step-submit")
            expect(page.locator("#timeline")).to_contain_text("own note")
            assert len(get_case(db, case_no).events) == 2
            # the attack
            page.goto(attack_url)
            page.wait_for_function("() => document.body.dataset.done === '1'", timeout=20_000)
            framed = page.frame_locator("#framed")
            assert framed.locator("#case-no").count() == 0  # frame-ancestors 'none': nothing rendered
            notes = [e["note"] for e in get_case(db, case_no).events]
            assert notes == ["", "own note"] or notes[-1] == "own note", notes
            assert not any("forged" in (n or "") for n in notes)
            page.goto(site + "/dashboard")  # still logged in
            expect(page).to_have_url(site + "/dashboard")
            browser.close()
    finally:
        attacker.shutdown()
        attacker.server_close()  # its listening socket, else a ResourceWarning (an error) in a later test


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_the_api_documentation_renders_from_the_vendored_scripts(platform):
    from playwright.sync_api import sync_playwright

    _, site, _ = platform
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        refused, foreign = [], []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((site, "blob:" + site, "data:"))
                else None)
        page.goto(site + "/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        assert page.locator(".swagger-ui .opblock").count() > 20  # every route is listed
        page.goto(site + "/redoc")
        page.wait_for_selector("[data-section-id]", timeout=30_000)
        browser.close()
    assert not foreign, foreign
    assert not refused, refused
