"""The one problem type and the one "N problems" format every validator uses."""

import pytest

from shuibao.errors import InputError, Issue, Issues, ReferenceDataError, format_issues, raise_issues


def test_issue_text_joins_where_field_and_message():
    assert str(Issue("[grid]", "crs", "expected metres")) == "[grid] crs: expected metres"
    assert str(Issue("rules.toml", "", "no [levels] table")) == "rules.toml: no [levels] table"
    assert str(Issue("", "", "bare")) == "bare"


def test_every_issue_is_listed_once_under_one_header():
    text = format_issues([Issue("a.csv", "row 2", "empty"), "b is wrong"], "run.toml", context="in the run spec")
    assert str(text).splitlines() == ["run.toml: 2 problem(s) in the run spec:", "  - a.csv row 2: empty", "  - b is wrong"]


def test_raise_keeps_the_issues_and_the_error_class():
    issues = Issues()
    issues.raise_if_any("nothing")  # none: no error
    issues.add("t.toml", "levels", "missing")
    with pytest.raises(ReferenceDataError) as info:
        issues.raise_if_any("t.toml", error=ReferenceDataError)
    assert info.value.issues == (Issue("t.toml", "levels", "missing"),)
    assert isinstance(info.value, OSError)  # the built-in of DataError


def test_no_issues_raise_nothing():
    assert raise_issues([], "x") is None
    with pytest.raises(InputError, match=r"^x: 1 problem\(s\):\n  - y$"):
        raise_issues(["y"], "x")
