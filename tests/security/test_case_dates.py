"""H3 (dates): every case and step date lies between the case's opening (and 2000-01-01, and the patch's
image date) and tomorrow; far-future dates and deadlines are 422, never 500 (review: security.md H3, L2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shuibao.cli.main import run
from shuibao.supervision.cases import State, load_case_rules

TODAY = date.today()


def _open(client, h, **kw):
    body = {"title": "日期", "category": "other", "on": "2025-08-01", "district": "wushan", **kw}
    return client.post("/api/cases", headers=h["admin"], json=body)


def test_a_far_future_step_is_refused_and_the_case_stays_workable(city):
    _db, client, h, _ = city
    no = _open(client, h).json()["case_no"]
    r = client.post(f"/api/cases/{no}/steps", headers=h["insp"], data={"step": "note", "on": "9999-12-31",
                                                                       "note": "freeze"})
    assert r.status_code == 422 and "in the future" in r.json()["detail"]
    r = client.post(f"/api/cases/{no}/steps", headers=h["offb"], data={"step": "note", "on": str(TODAY + timedelta(2)),
                                                                       "note": "x"})
    assert r.status_code == 422
    r = client.post(f"/api/cases/{no}/steps", headers=h["offb"], data={"step": "note", "on": str(TODAY + timedelta(1)),
                                                                       "note": "tomorrow in UTC+8"})
    assert r.status_code == 200  # the stated tolerance of one day
    r = client.post(f"/api/cases/{no}/steps", headers=h["offb"], data={
        "step": "verify", "outcome": "confirmed", "on": str(TODAY + timedelta(1)), "note": "x"})
    assert r.status_code == 200 and r.json()["state"] == "confirmed"


@pytest.mark.parametrize("on, words", [("9999-12-31", "in the future"), ("0001-01-01", "before 2000-01-01"),
                                       ("1999-12-31", "before 2000-01-01")])
def test_absurd_opening_dates_are_422(city, on, words):
    _db, client, h, _ = city
    r = _open(client, h, on=on)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_a_case_on_a_patch_is_not_opened_before_its_image(city):
    _db, client, h, fids = city
    r = client.post("/api/cases", headers=h["offb"], json={"title": "早", "category": "unapproved",
                                                          "on": "2025-06-01", "patch_fid": fids["TB"]})
    assert r.status_code == 422 and "image date" in r.json()["detail"]


def test_impossible_form_dates_and_far_deadlines_are_422(city):
    _db, client, h, _ = city
    no = _open(client, h).json()["case_no"]
    r = client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={"step": "note", "on": "2026-02-30",
                                                                        "note": "x"})
    assert r.status_code == 422
    assert client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={
        "step": "verify", "outcome": "confirmed", "on": "2025-08-02", "note": "x"}).status_code == 200
    r = client.post(f"/api/cases/{no}/steps", headers=h["admin"], data={
        "step": "order_rectification", "on": "2025-08-03", "deadline": "9999-12-31", "note": "x"})
    assert r.status_code == 422 and "730 days" in r.json()["detail"]
    assert len(client.get(f"/api/cases/{no}", headers=h["admin"]).json()["events"]) == 2


def test_deadlines_never_overflow():
    with pytest.raises(ValueError, match="last representable date"):
        load_case_rules().deadline(State.open, date.max)


def test_the_command_line_refuses_a_far_future_step_with_exit_2(city, capsys):
    db, client, h, _ = city
    no = _open(client, h).json()["case_no"]
    code = run(["--db", db, "supervise", "cases", "step", no, "note", "--on", "9999-12-31", "--note", "x"])
    out, err = capsys.readouterr()
    assert code == 2 and "in the future" in out + err
