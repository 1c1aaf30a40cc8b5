"""The case page in a real browser: a mistaken step is voided with its reason from the timeline, stays
visible struck through with who voided it, and the next step is accepted (security.md H3)."""

from __future__ import annotations

from datetime import date

import pytest

from shuibao.services.supervision import cases

from ..web.test_browser import CHROMIUM
from ..web.live import live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def served(city):
    with live_server(city[0]) as url:
        yield city[0], url


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt install chromium; scripts/check.sh does)")
def test_void_a_step_from_the_case_page(served):
    from playwright.sync_api import expect, sync_playwright

    db, server = served
    no = cases.open_case(db, title="页面作废", category="other", on=date(2025, 8, 1), district="wushan")
    cases.add_step(db, no, "verify", on=date(2025, 8, 5), outcome="not_confirmed", note="记错案件", actor="offb")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(server + "/login")
        page.fill("#username", "offb")
        page.fill("#password", "amber-willow-6135")
        page.click("#login-submit")
        page.wait_for_url(server + "/dashboard*")
        page.goto(f"{server}/cases/{no}")
        expect(page.locator("#case-state")).to_have_text("核查不属实")  # the label, not the code dismissed
        page.click('.void-step[data-seq="2"]')  # no reason: refused, with the reason said
        expect(page.locator("#void-error")).to_contain_text("reason")
        page.fill('.void-reason[data-seq="2"]', "录入到错误的案件")
        page.click('.void-step[data-seq="2"]')
        expect(page.locator("#case-state")).to_have_text("待核查")  # open
        row = page.locator('#timeline tr[data-seq="2"]')
        expect(row).to_have_class("voided")
        expect(row).to_contain_text("offb")
        expect(row).to_contain_text("录入到错误的案件")
        expect(page.locator('#timeline tr[data-seq="3"]')).to_contain_text("作废")
        browser.close()
