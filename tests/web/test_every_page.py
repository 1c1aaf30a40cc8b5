"""Every page of the web UI, in Chinese and in English, on a desk (1400×900) and a phone (390×844), in a real
browser (Playwright driving Debian's Chromium), over the demo's records: no raw code, no Python repr, no
untranslated word, no sideways scroll of the page, no table of more than 200 rows (a long list is paged), a tab
title of its own ("<page> · 水保", never the app's name alone); the 404 page of an unknown record and address too.

The pages are enumerated from the application's routes, so a new page is visited without anyone adding it
here; a page with a path parameter this test has no real id for fails, naming the parameter.  The text checked
is what a person sees: the visible text nodes of the page, the options of its selects and its placeholders.
The evidence behind each assessment score (``details.evidence``) is opened first.  Text inside ``translate="no"`` (records' names, titles, notes, file names, a CRS's name: data, not UI words)
is left out of the language and code checks; the repr check reads everything.  The layout check reads
``document.documentElement``: scrollWidth above clientWidth is a page wider than the window, reported with the
elements that stick out (outside any box that scrolls on its own), with every ``details`` open (a run's spec
and provenance, an import's result)."""

from __future__ import annotations

import os
import re
import shutil
import time
from urllib.parse import urlsplit

import pytest

from shuibao import vocabulary
from shuibao.services.platform import auth

from .live import live_server

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("SHUIBAO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
USER, PASSWORD = "every-page", "quiet-harbour-6184"

# not the bureau's UI: the vendored Swagger UI and ReDoc render the OpenAPI document (English API reference)
NOT_UI = {"/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json", "/vocabulary.js", "/healthz"}  # /healthz: JSON
NOT_UI_PREFIXES = ("/api", "/ogc", "/tiles", "/static")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
REPR = re.compile(r"\bNone\b|\[\[|\{'|\{\"|\bTrue\b|\bFalse\b|\bNaN\b|\bundefined\b|\bnull\b|\[object Object\]")
INTERNAL_REF = re.compile(r"\b[a-z_]+:\d+\b")  # a stored "<kind>:<id>" shown as it is stored
CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# English a Chinese page may show: units and standard names (the standards' own spelling)
ALLOWED_ENGLISH = {"OGC", "API", "CSV", "SHA", "EPSG", "CGCS", "GeoPackage", "GeoTIFF", "Leaflet", "XLSX", "Excel",
                   "gpkg", "geojson", "zip", "csv", "tif", "xlsx", "json", "KiB", "MiB", "GiB"}
# the stored codes that cannot be mistaken for an English word: any code with '_' or '.' in it
CODE_TOKENS = {c for g, codes in vocabulary.entries().items() if g not in vocabulary.PLAN_GROUPS
               for c in codes if re.fullmatch(r"[a-z]+[_.][a-z_.]+", c)}

VISIBLE_TEXT = """() => {
  const all = [], words = [];
  const take = (t, el) => { t = (t || "").trim(); if (!t) return; all.push(t);
                            if (!el.closest('[translate="no"]')) words.push(t); };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest("script,style,template,noscript")) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    take(n.textContent, el);
  }
  for (const el of document.querySelectorAll("option")) take(el.textContent, el);
  for (const el of document.querySelectorAll("[placeholder]")) take(el.getAttribute("placeholder"), el);
  return {all, words};
}"""


VIEWPORTS = ({"width": 1400, "height": 900}, {"width": 390, "height": 844})
MAX_TABLE_ROWS = 200  # a table longer than this is a list that should have been paged

LAYOUT = """() => {
  const doc = document.documentElement, width = doc.clientWidth;
  const tables = [...document.querySelectorAll("table")].map(t => ({
    id: t.id || t.className || "table", rows: [...t.tBodies].reduce((n, b) => n + b.rows.length, 0)}));
  const out = {scrollWidth: doc.scrollWidth, clientWidth: width, tables, wide: []};
  if (doc.scrollWidth <= width) return out;
  const scrolls = el => { for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== "visible") return true; } return false; };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect(), up = el.parentElement.getBoundingClientRect();
    if (r.right > width + 1 && up.right <= width + 1 && !scrolls(el))
      out.wide.push({el: name(el), right: Math.round(r.right), text: (el.textContent || "").trim().slice(0, 60)});
  }
  out.wide.sort((a, b) => b.right - a.right);
  return out;
}"""


def layout_problems(layout: dict) -> list[str]:
    """A page wider than the window (naming the widest elements that stick out), a table too long to read."""
    found = []
    if layout["scrollWidth"] > layout["clientWidth"]:
        found.append(f"scrolls sideways: {layout['scrollWidth']} px in a {layout['clientWidth']} px window; "
                     f"widest: {layout['wide'][:3]}")
    found += [f"table {t['id']!r} shows {t['rows']} rows (> {MAX_TABLE_ROWS}): page it"
              for t in layout["tables"] if t["rows"] > MAX_TABLE_ROWS]
    return found


def _routes(routes, prefix: str = ""):
    """(path, methods) of every route, through included routers (FastAPI keeps them as included-router
    entries whose ``original_router`` holds the routes) and plain ones."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(inner.routes, prefix + (getattr(context, "prefix", "") or "") + (inner.prefix or ""))
        else:
            yield prefix + getattr(route, "path", ""), getattr(route, "methods", None) or set()


def ui_pages(app) -> list[str]:
    """Every GET page of the application (its path templates), from its routers."""
    return sorted({path for path, methods in _routes(app.routes)
                   if "GET" in methods and path not in NOT_UI and not path.startswith(NOT_UI_PREFIXES)})


def real_ids(base: str, client) -> dict[str, str]:
    """A real id for each path parameter, from the demo's records: the case with the most steps, the project
    with the most records on its page, the newest run, a district."""
    cases = client.get(base + "/api/cases").json()
    case = max(cases, key=lambda c: (c["steps"], c["case_no"]))["case_no"]
    projects = client.get(base + "/api/projects", params={"limit": 40}).json()["items"]

    def richness(code: str) -> int:
        d = client.get(base + f"/api/projects/{code}").json()
        return sum(len(d[k]) for k in ("events", "findings", "cases", "fees", "acceptance"))

    project = max((p["code"] for p in projects), key=richness)
    run = str(client.get(base + "/api/runs").json()[-1]["id"])
    return {"case_no": case, "code": project, "run": run, "name": "wanzhou"}


GENERIC_TITLES = {"水保 · 水土保持监测监管平台", "Shuibao · soil and water conservation platform"}
TITLE_TAIL = {"zh": " · 水保", "en": " · Shuibao"}


def title_problems(title: str, lang: str, url: str, seen: dict[tuple[str, str], str]) -> list[str]:
    """The tab's title names the page ("<page> · 水保"), not the app alone, and no two pages share one."""
    tail = TITLE_TAIL[lang]
    if title in GENERIC_TITLES or not title.endswith(tail) or not title[:-len(tail)].strip():
        return [f"the tab's title is {title!r}, not '<page name>{tail}'"]
    other = seen.setdefault((lang, title), url)
    return [] if other == url else [f"the tab's title {title!r} is also {other}'s"]


def problems_of(text: dict, lang: str) -> list[str]:
    found = []
    everything, words = " ¶ ".join(text["all"]), " ¶ ".join(text["words"])
    found += [f"Python/JS repr {m!r}" for m in REPR.findall(everything)]
    found += [f"raw code {m!r}" for m in SNAKE.findall(words)]
    found += [f"internal reference {m!r}" for m in INTERNAL_REF.findall(everything)]  # "stations:36"
    found += [f"stored code {t!r}" for t in re.findall(r"[a-z][a-z_.]*[a-z]", words) if t in CODE_TOKENS]
    if lang == "en":
        found += [f"Chinese on the English page: {t!r}" for t in text["words"] if CJK.search(t)]
    else:
        found += [f"English on the Chinese page: {w!r} in {t!r}" for t in text["words"]
                  for w in ENGLISH_WORD.findall(t) if w not in ALLOWED_ENGLISH]
    return sorted(set(found))


@pytest.fixture
def every_page_site(demo, tmp_path):
    """A copy of the demo's database (with supervision and governance records) and a city administrator."""
    db = str(tmp_path / "pages.gpkg")
    shutil.copy(demo, db)
    auth.create_user(db, USER, PASSWORD, "city_admin")
    return db


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_every_page_in_both_languages_and_sizes_shows_labels_fits_and_pages(every_page_site):
    import httpx
    from playwright.sync_api import expect, sync_playwright

    with live_server(every_page_site) as base:
        from shuibao.web import Settings, create_app

        pages = ui_pages(create_app(Settings(db=every_page_site)))
        with httpx.Client() as client:
            assert client.post(base + "/api/login", json={"username": USER, "password": PASSWORD}).status_code == 200
            ids = real_ids(base, client)
            every_case = client.get(base + "/api/cases").json()  # every case (no limit)
            total = len(every_case)
            projects = client.get(base + "/api/projects", params={"limit": 500}).json()["items"]
            matching_q = projects[0]["code"][:-1]  # the codes that begin like the first one's: ten of them or so
            matching = [p["code"] for p in projects if p["code"].startswith(matching_q)]
            runs = client.get(base + "/api/runs").json()  # the demo's two runs, oldest first
            newest = client.get(base + "/api/runs", params={"newest_first": "true", "limit": 1})
            assert len(runs) == 2 and newest.json() == runs[-1:] and newest.headers["X-Total-Count"] == "2"
        unknown = {p for page in pages for p in re.findall(r"\{(\w+)", page)} - set(ids)
        assert unknown == set(), f"pages with a parameter this test has no real id for: {unknown}"
        urls = [re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], p) for p in pages]
        assert {"/dashboard", "/map", "/cases", "/audit", "/admin", "/assessment"} <= set(urls)  # the gathering works
        failures: dict[str, list[str]] = {}
        started = time.monotonic()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport=VIEWPORTS[0])
            script_errors: list[str] = []
            page.on("pageerror", lambda e: script_errors.append(str(e)))
            for view in VIEWPORTS:  # the login page, logged out
                page.set_viewport_size(view)
                for lang in ("zh", "en"):
                    page.goto(f"{base}/login?lang={lang}")
                    failures[f"/login?lang={lang} @{view['width']}"] = (
                        problems_of(page.evaluate(VISIBLE_TEXT), lang) + layout_problems(page.evaluate(LAYOUT))
                        + title_problems(page.title(), lang, "/login", {}))
            page.goto(base + "/login?lang=zh")
            page.fill("#username", USER)
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(base + "/dashboard")
            pagers: dict = {}
            titles: dict[tuple[str, str], str] = {}
            for view in VIEWPORTS:  # one browser, one login: the viewport changes between rounds
                page.set_viewport_size(view)
                for lang in ("zh", "en"):
                    for url in urls:
                        answer = page.goto(f"{base}{url}?lang={lang}", wait_until="networkidle")
                        if url == "/map":
                            page.wait_for_function("() => document.body.dataset.mapReady === '1'", timeout=30_000)
                        page.evaluate("document.querySelectorAll('details.evidence').forEach(d => d.open = true)")
                        shown = page.evaluate(VISIBLE_TEXT)
                        err = page.locator("#page-error")
                        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                        found = problems_of(shown, lang) + layout_problems(page.evaluate(LAYOUT))  # all open
                        if err.count() and err.is_visible():
                            found.append(f"the page shows an error: {err.inner_text()!r}")
                        if answer is None or answer.status != 200:  # a real id: the record page, not the 404
                            found.append(f"HTTP {answer.status if answer else None}")
                        found += title_problems(page.title(), lang, urlsplit(page.url).path, titles)  # '/' is the dashboard
                        failures[f"{url}?lang={lang} @{view['width']}"] = found
                        if url == "/cases":
                            pagers[(lang, view["width"])] = page.locator("#cases-pager .where").inner_text()
            for view in VIEWPORTS:  # the 404 page of an unknown record and of an unknown address, the same checks
                page.set_viewport_size(view)
                for lang in ("zh", "en"):
                    for url in ("/projects/NOPE", "/nonexistent"):
                        answer = page.goto(f"{base}{url}?lang={lang}", wait_until="networkidle")
                        found = problems_of(page.evaluate(VISIBLE_TEXT), lang) + layout_problems(page.evaluate(LAYOUT))
                        if answer is None or answer.status != 404 or page.locator("#not-found-links a").count() < 1:
                            found.append(f"not the 404 page: HTTP {answer.status if answer else None}")
                        failures[f"{url}?lang={lang} @{view['width']}"] = found + title_problems(
                            page.title(), lang, "404", titles)
            # the pager turns pages: the ledger's second page is the cases 51–100, and the address keeps it
            page.set_viewport_size(VIEWPORTS[1])
            page.goto(f"{base}/cases?lang=zh", wait_until="networkidle")
            page.click("#cases-pager .next")
            expect(page.locator("#cases-pager .where")).to_have_text(f"第 2/{-(-total // 50)} 页 · 共 {total} 条")
            shown_cases = page.locator("#cases tbody tr td:first-child").all_inner_texts()
            assert shown_cases == [c["case_no"] for c in every_case[50:100]] and "page=2" in page.url
            # a filter starts again at page 1 and the pager counts what matches
            page.goto(f"{base}/projects?lang=zh&page=2", wait_until="networkidle")
            page.fill("#f-q", matching_q)
            page.click("#f-submit")
            expect(page.locator("#projects-pager .where")).to_have_text(f"第 1/1 页 · 共 {len(matching)} 条")
            assert page.locator("#projects tbody tr td:first-child").all_inner_texts() == matching
            # an unbreakable string (a one-line WKT once made the run page 3,150 px wide) wraps or scrolls in its box
            page.goto(f"{base}/runs/{ids['run']}?lang=en", wait_until="networkidle")
            page.evaluate("""() => { const wkt = 'PROJCS["CGCS2000_Albers",GEOGCS[' + 'x'.repeat(3000) + ']]';
              document.getElementById('run-name').textContent = wkt;
              document.querySelector('#params td').textContent = wkt; }""")
            wide = layout_problems(page.evaluate(LAYOUT))
            assert wide == [], wide
            # a table filled in one go with more than 100 rows is shown a page at a time (pages.js fill)
            page.goto(f"{base}/runs?lang=en", wait_until="networkidle")
            page.evaluate("fill('#runs', Array.from({length: 250}, (_, i) => i), i => `<tr><td>${i}</td></tr>`)")
            expect(page.locator("#runs tbody tr")).to_have_count(50)
            expect(page.locator("#runs-pager .where")).to_have_text("page 1 of 5 · 250 records")
            page.click("#runs-pager .next")
            expect(page.locator("#runs tbody tr").first).to_have_text("50")
            # the audit's stored references for people: a warning's rain source, a failed login's role
            page.goto(f"{base}/audit?lang=zh", wait_until="networkidle")
            shown = page.evaluate("""() => [valueHtml("source", "stations:36"),
                valueHtml("source", "grid:/srv/rain/2025-07-01.tif"), labelOf("role", "anonymous")]""")
            assert shown == ['<a href="/map">监测站点雨量插值（站数）</a> · 36',
                             '雨量栅格（文件） · <span translate="no">2025-07-01.tif</span>', "匿名（未登录）"]
            browser.close()
        elapsed = time.monotonic() - started
        print(f"every page: {len(urls) + 1} pages × 2 languages × {len(VIEWPORTS)} viewports in {elapsed:.0f} s")
        # the demo's ledger is longer than a page: the pager says so, in each language's words
        assert total > MAX_TABLE_ROWS and len(pagers) == 2 * len(VIEWPORTS)
        pages_of = -(-total // 50)
        for (lang, width), where in pagers.items():
            expected = f"第 1/{pages_of} 页 · 共 {total} 条" if lang == "zh" else f"page 1 of {pages_of} · {total} records"
            if where != expected:
                failures[f"/cases?lang={lang} @{width}"].append(f"the pager says {where!r}, not {expected!r}")
    failures = {k: v for k, v in failures.items() if v}
    assert failures == {}, "\n".join(f"{k}: {v[:12]}" for k, v in failures.items())
    assert script_errors == []
