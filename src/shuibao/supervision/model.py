"""Vocabulary of project supervision: project statuses, compliance categories, case steps.

The values follow the MWR information-supervision practice (生产建设项目水土保持信息化
监管技术规定; the value lists of a public supervision system, see
``reference/methods-verification.md`` §6): each suspected compliance value (疑似…)
has a confirmed counterpart set after field verification (现场复核), and
"非生产建设项目" is a disturbance type, not a compliance value.
"""

from __future__ import annotations

from enum import StrEnum


class ProjectStatus(StrEnum):
    """Lifecycle of an approved SWC plan's project (方案批复 → 施工 → 完工 → 验收报备 → 核查)."""

    approved = "approved"
    under_construction = "under_construction"
    completed = "completed"
    acceptance_filed = "acceptance_filed"
    verified = "verified"
    suspended = "suspended"
    cancelled = "cancelled"


PROJECT_STATUS_ZH = {
    ProjectStatus.approved: "已批未开工",
    ProjectStatus.under_construction: "施工",
    ProjectStatus.completed: "完工",
    ProjectStatus.acceptance_filed: "已验收报备",
    ProjectStatus.verified: "已核查",
    ProjectStatus.suspended: "停工",
    ProjectStatus.cancelled: "已撤销",
}

PROJECT_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.approved: frozenset({ProjectStatus.under_construction, ProjectStatus.suspended,
                                       ProjectStatus.cancelled}),
    ProjectStatus.under_construction: frozenset({ProjectStatus.completed, ProjectStatus.suspended,
                                                 ProjectStatus.cancelled}),
    ProjectStatus.suspended: frozenset({ProjectStatus.under_construction, ProjectStatus.cancelled}),
    ProjectStatus.completed: frozenset({ProjectStatus.acceptance_filed}),
    # a filing that fails verification goes back to 完工 until it is filed again
    ProjectStatus.acceptance_filed: frozenset({ProjectStatus.verified, ProjectStatus.completed}),
    ProjectStatus.verified: frozenset(),
    ProjectStatus.cancelled: frozenset(),
}

ACTIVE_STATUSES = frozenset({ProjectStatus.under_construction})
"""Statuses in which disturbance is expected on the ground."""


def check_project_transition(current: str, new: str, project: str) -> ProjectStatus:
    """The new status if ``current → new`` is allowed, else ValueError naming what is allowed."""
    try:
        cur, nxt = ProjectStatus(current), ProjectStatus(new)
    except ValueError:
        raise ValueError(f"project {project}: unknown status {new!r}; expected one of "
                         f"{', '.join(s.value for s in ProjectStatus)}") from None
    allowed = PROJECT_TRANSITIONS[cur]
    if nxt not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (final status)"
        raise ValueError(f"project {project}: cannot go from {cur.value} to {nxt.value}; allowed: {options}")
    return nxt


class Category(StrEnum):
    """Compliance category of one disturbance patch (合规性)."""

    compliant = "compliant"
    out_of_bounds = "out_of_bounds"
    unapproved = "unapproved"
    relocated = "relocated"
    not_project = "not_project"


CATEGORY_ZH = {
    Category.compliant: "合规",
    Category.out_of_bounds: "疑似超出防治责任范围",
    Category.unapproved: "疑似未批先建",
    Category.relocated: "疑似建设地点变更",
    Category.not_project: "非生产建设项目",
}

CONFIRMED_ZH = {
    Category.out_of_bounds: "超出防治责任范围",
    Category.unapproved: "未批先建",
    Category.relocated: "建设地点变更",
}
"""The confirmed value a suspected category becomes after field verification."""

VIOLATIONS = frozenset(CONFIRMED_ZH)

NOT_PROJECT_KIND = "非生产建设项目"
DISTURBANCE_KINDS = ("弃土（渣）场", "取土（石）场", "其他扰动", NOT_PROJECT_KIND)
"""扰动类型 of the MWR patch attribute list."""
CHANGE_TYPES = ("新增", "续建", "完工")
"""扰动变化类型 (续建 may carry 范围扩大/缩小/不变 in the notes)."""

AREA_KINDS = {"responsibility": "防治责任范围", "schematic": "示意性范围"}
"""A project polygon is either its surveyed responsibility area or a schematic outline."""

CASE_CATEGORY_ZH = {
    **{c.value: CATEGORY_ZH[c] for c in VIOLATIONS},
    "inspection_problem": "跟踪检查发现问题",
    "red_report": "监测三色评价红色",
    "acceptance_failed": "验收核查不合格",
    "other": "其他违法违规行为",
}
"""Categories a case may carry: the suspect compliance categories and the other sources of a case."""


def case_category_label(category: str, confirmed: bool) -> str:
    """The Chinese label; a confirmed violation drops its 疑似 (e.g. 疑似未批先建 → 未批先建)."""
    if confirmed and category in {c.value for c in VIOLATIONS}:
        return CONFIRMED_ZH[Category(category)]
    return CASE_CATEGORY_ZH.get(category, category)
