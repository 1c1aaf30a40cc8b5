"""The vocabulary table: every code the domain defines has a Chinese and an English label.

The code sets are gathered here from where the domain defines them (enums, the tuples and dicts of the
domain modules, the shipped rule files, the audit calls in the services' source), not from the table, so a
new code added to any of them without a row in ``vocabulary/data/labels.csv`` fails this test."""

from __future__ import annotations

import ast
import csv
import re
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

import shuibao
from shuibao import vocabulary as v

SRC = Path(shuibao.__file__).parent
CJK = re.compile(r"[\u3400-\u9fff]")


def _toml(rel: str) -> dict:
    return tomllib.loads((SRC / rel).read_text(encoding="utf-8"))


# where each audit helper takes the action and the object kind: auth.audit(conn, principal, action, kind, …),
# programs._audit(conn, actor, action, kind, …), cases.audit_write(conn, principal, actor, action, case_no, …)
_AUDIT_ARGS = {"audit": (2, 3), "_audit": (2, 3), "audit_write": (3, None)}


def _audit_calls() -> tuple[set[str], set[str], set[str]]:
    """(actions, object kinds, f-string action prefixes) of every audit call in the source."""
    actions: set[str] = set()
    kinds: set[str] = set()
    prefixes: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in _AUDIT_ARGS or len(node.args) < 4:
                continue
            at, kind_at = _AUDIT_ARGS[name]
            a = node.args[at]
            for c in ([a.body, a.orelse] if isinstance(a, ast.IfExp) else [a]):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    actions.add(c.value)
                elif isinstance(c, ast.JoinedStr) and isinstance(c.values[0], ast.Constant):
                    prefixes.add(str(c.values[0].value))
            k = node.args[kind_at] if kind_at is not None else None
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                kinds.add(k.value)
    return actions, kinds, prefixes


@lru_cache(maxsize=1)
def code_sets() -> dict[str, set[str]]:
    from shuibao.core.csle import GRADE_CODES
    from shuibao.governance import progress
    from shuibao.plan.reference import load_reference
    from shuibao.services.platform import auth, logins
    from shuibao.services.reporting import bulletin, overviews
    from shuibao.services.stations import rain_warning, records
    from shuibao.services.supervision.cases import CASE_SOURCES
    from shuibao.stations.qc import FLAGS
    from shuibao.supervision import cases, credit, model
    from shuibao.supervision import fees as fee_rules

    ref = load_reference()
    actions, kinds, prefixes = _audit_calls()
    assert "case." in prefixes  # the case steps are audited as case.<step>
    actions |= {f"case.{s.value}" for s in cases.Step if s is not cases.Step.open} | {"case.open"}
    from shuibao.services.assessment.plan_targets import run_audit
    from shuibao.services.monitoring import annual_run

    audit = run_audit()
    rules = _toml("supervision/data/credit_rules.toml")["rules"]
    fees = _toml("supervision/data/fee_rates.toml")["entries"]
    from shuibao.services.supervision import approvals as approval_services
    from shuibao.supervision import approvals

    actions |= {f"application.{s.value}" for s in approvals.Step}  # audited as application.<step>
    return {
        "application_state": {s.value for s in approvals.State},
        "approval_path": {p.value for p in approvals.Path_},
        "plan_class": {c.value for c in approvals.PlanClass},
        "application_step": {s.value for s in approvals.Step},
        "application_outcome": {t.outcome for t in approvals.TRANSITIONS if t.outcome},
        "approval_role": set(approval_services.ROLES),
        "reviewer_kind": set(approval_services.REVIEWER_KINDS),
        "project_status": {s.value for s in model.ProjectStatus},
        "compliance": {c.value for c in model.Category},
        "compliance_confirmed": {c.value for c in model.CONFIRMED_ZH},
        "case_category": set(model.CASE_CATEGORY_ZH),
        "case_source": set(CASE_SOURCES),
        "case_state": {s.value for s in cases.State},
        "case_step": {s.value for s in cases.Step},
        "case_outcome": {o for pair in cases.OUTCOMES.values() for o in pair},
        "area_kind": set(model.AREA_KINDS),
        "traffic_light": set(credit.COLOURS),
        "credit_list": set(credit.LISTS) | {r["list"] for r in rules},
        "credit_rule": {r["id"] for r in rules},
        "credit_rule_kind": set(credit._PARAMS) | {r["kind"] for r in rules},
        "credit_evidence": set(credit._EVIDENCE_ZH),
        "fee_category": {e["category"] for e in fees},
        "fee_basis": {e["basis"] for e in fees},
        "fee_charged": set(fee_rules.CHARGED) | {e["charged"] for e in fees},
        "fee_rate_status": set(fee_rules.RATE_STATUSES) | {e["rate_status"] for e in fees},
        "fee_exemption": {x["key"] for x in _toml("supervision/data/fee_rates.toml")["exemptions"]},
        "fee_entry_kind": {"payment", "exemption", "refund"},
        "role": set(auth.ROLES) | set(auth.ROLE_ZH) | {logins.ANONYMOUS},
        "rain_source": set(rain_warning.RAIN_SOURCES),
        "audit_action": actions,
        "object_kind": kinds,
        "unit_level": set(bulletin.LEVEL_ZH),
        "erosion_grade": set(GRADE_CODES.values()),
        "trend_direction": set(bulletin.DIRECTION_ZH),
        "file_kind": set(overviews._KINDS.values()),
        "measure_kind": {g.key for g in ref.governance},
        "measure": {m["key"] for m in _toml("governance/data/measures.toml")["measures"]},
        "treatment_status": set(progress.STATUSES),
        "station_kind": set(records.KIND_ZH),
        "station_status": set(records.STATUSES.values()),
        "qc_flag": set(FLAGS),
        "warning_level": {lv["key"] for lv in _toml("stations/data/warning_levels.toml")["levels"]},
        "assessment_indicator": {i["key"] for i in _toml("assessment/data/assessment.toml")["indicators"]},
        "district_kind": {d.kind for d in ref.districts},
        "assessment_grade": {g["name_zh"] for g in _toml("assessment/data/assessment.toml")["grades"]},
        # results checked inline by services/supervision/programs.py (record_inspection, verify_acceptance)
        "inspection_result": {"pass", "problems"},
        "acceptance_result": {"pass", "fail"},
        "district": {d.code for d in ref.districts},
        "region": {r.code for r in ref.regions},
        # the run page's records: every key and section a run spec may have (the template lists them all,
        # optional ones commented out), the run's steps; the CLI's API-key listing and plan audit
        "run_record": _spec_keys(),
        "run_step": set(annual_run.STEPS) | {"soil_loss"},
        "api_collection": set(auth.KEY_COLLECTIONS),
        "plan_check": set(audit.summary()) - {"checks"},
        "plan_check_rule": {c.rule for c in audit.checks},
    }


def _spec_keys() -> set[str]:
    from shuibao.services.monitoring.run_inputs import spec_template

    keys = set(re.findall(r"^#?\s*([a-z][a-z0-9_]*)\s*=", spec_template(), re.M))
    return keys | set(re.findall(r"^\[([a-z_]+)\]", spec_template(), re.M))


@pytest.mark.parametrize("group", sorted(code_sets()))
def test_every_code_the_domain_defines_has_both_labels(group):
    codes = code_sets()[group]
    assert codes, f"{group}: the domain's code set came back empty (the gathering is broken)"
    missing = sorted(c for c in codes if not v.has_label(group, c))
    assert missing == [], f"{group}: codes without a Chinese and English label in vocabulary/data/labels.csv"


def test_the_domain_chinese_labels_agree_with_the_table():
    """Where a domain module still keeps its own Chinese names, they are the table's (one vocabulary)."""
    from shuibao.governance import progress
    from shuibao.services.platform import auth
    from shuibao.services.stations import records
    from shuibao.supervision import cases, credit, model

    pairs = {"case_state": cases.STATE_ZH, "case_step": cases.STEP_ZH, "project_status": model.PROJECT_STATUS_ZH,
             "compliance": model.CATEGORY_ZH, "compliance_confirmed": model.CONFIRMED_ZH,
             "case_category": model.CASE_CATEGORY_ZH, "area_kind": model.AREA_KINDS, "role": auth.ROLE_ZH,
             "treatment_status": progress.STATUS_ZH, "station_kind": records.KIND_ZH, "credit_list": credit.LISTS}
    wrong = [(g, str(c), zh, v.label(g, c)) for g, d in pairs.items() for c, zh in d.items() if v.label(g, c) != zh]
    assert wrong == []


def test_rows_are_complete_and_groups_documented():
    with open(v.data_dir() / "labels.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    groups = v.groups()
    seen = set()
    for r in rows:
        where = f"labels.csv {r['group']}/{r['code']}"
        assert r["group"] in groups, f"{where}: group not described in groups.csv"
        assert (r["group"], r["code"]) not in seen, f"{where}: twice"
        seen.add((r["group"], r["code"]))
        assert r["zh"] and r["en"] and r["source"], where
        assert r["zh"] == "—" or CJK.search(r["zh"]), f"{where}: the Chinese label has no Chinese"
        assert not CJK.search(r["en"]), f"{where}: the English label has Chinese"
        assert r["values"] == "" or r["values"] in groups, f"{where}: values names no group"
    assert all(g.description and g.defined_in for g in groups.values())
    assert {r["group"] for r in rows} | set(v.PLAN_GROUPS) == set(groups)


def test_plan_groups_come_from_the_reference_data():
    assert v.label("district", "wanzhou") == "万州区"
    assert v.label("district", "wanzhou", "en") == "Wanzhou"
    assert v.label("district", "万州区", "en") == "Wanzhou"  # a record holding the name
    assert v.label("district", "500101", "en") == "Wanzhou"  # or the 行政区划代码
    assert v.label("region", "northeast") == "渝东北三峡库区城镇群"
    english = [v.label("district", d, "en") for d in v.labels("district")]
    assert len(english) == 39 and not any(CJK.search(e) for e in english)


def test_lookup_falls_back_and_formats():
    assert v.label("case_state", "rectification_ordered") == "整改中"
    assert v.label("case_state", "rectification_ordered", "en") == "Under rectification"
    assert v.label("case_state", "rectification_ordered", "en-GB") == "Under rectification"
    assert v.label("case_state", "no_such_state") == "no_such_state"  # shown as stored, never an error
    assert v.label("case_state", None) == ""
    assert not v.has_label("case_state", "no_such_state")
    assert v.unit("field", "total_area_hm2") == "hm²"
    assert v.number(85406) == "85,406.00" and v.number(1234567.891, 1) == "1,234,567.9" and v.number(None) == ""
    assert v.day("2026-12-06T21:01:55.195058") == "2026-12-06"
    assert v.moment("2026-12-06T21:01:55.195058") == "2026-12-06 21:01"
