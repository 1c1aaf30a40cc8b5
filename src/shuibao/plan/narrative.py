"""Numbers printed in the plan's text, re-derived from its tables.

Each narrative figure (``narrative_figures.csv``) carries an expression in a tiny,
closed grammar — numbers, ``+ − × ÷`` and the table functions below — evaluated
twice: exactly from the printed inputs, and as an interval over every value that
rounds to them (:mod:`shuibao.plan.interval`).  A replaced data file cannot run code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from decimal import Decimal

from ..errors import ReferenceDataError, N_
from .interval import Interval
from .reference import LOSS_GRADES, PlanReference


class PrintedSum:
    """Exact and interval sums of printed values side by side."""

    def __init__(self) -> None:
        self.exact = Decimal(0)
        self.interval = Interval.exact(0)

    def add(self, value: Decimal | None) -> PrintedSum:
        if value is not None:
            self.exact += value
            self.interval = self.interval + Interval.printed(value)
        return self


def printed_sum(values: Iterable[Decimal | None]) -> PrintedSum:
    s = PrintedSum()
    for v in values:
        s.add(v)
    return s


class NarrativeEvaluator:
    """Evaluate a narrative figure's expression twice: exactly, and as an interval.

    The grammar is tiny and closed (numbers, + - * /, and the table functions
    below), so a replaced data file cannot run code.
    """

    def __init__(self, ref: PlanReference):
        self.ref = ref

    def cell(self, table: str, label: str, column: str) -> Decimal | None:
        if table == "s1":
            row = self.ref.erosion_row(label)
            base = column.removesuffix("_km2").removesuffix("_pct")
            if column == "total_km2":
                return row.total_km2
            if base == "loss":
                return row.loss_km2 if column.endswith("_km2") else row.loss_pct
            return row.area_km2[base] if column.endswith("_km2") else row.pct[base]
        if table == "s2":
            for r in self.ref.schedule2:
                if r.label == label or (r.row_kind != "district" and f"{r.region_label}{r.label}" == label):
                    return getattr(r, column)
            raise ReferenceDataError(N_("narrative expression: 附表2 has no row {label!r}", label=label))
        for lu in self.ref.table2:
            if lu.label == label:
                return lu.loss_km2 if column == "loss_km2" else lu.area_km2[column.removesuffix("_km2")]
        raise ReferenceDataError(N_("narrative expression: 表2 has no row {label!r}", label=label))

    def functions(self) -> dict[str, Callable[..., tuple[Decimal, Interval]]]:
        def printed(v: Decimal | None) -> tuple[Decimal, Interval]:
            v = v if v is not None else Decimal(0)
            return v, Interval.printed(v)

        def plus(table: str, label: str) -> tuple[Decimal, Interval]:
            s = printed_sum(self.cell(table, label, f"{g}_km2") for g in LOSS_GRADES[1:])
            return s.exact, s.interval

        def governance(key: str) -> tuple[Decimal, Interval]:
            v = sum((g.quantity for g in self.ref.governance if g.key == key), Decimal(0))
            return v, Interval.printed(v)

        def governance_total() -> tuple[Decimal, Interval]:
            s = printed_sum(g.quantity for g in self.ref.governance if g.counts_toward_new_treatment)
            return s.exact, s.interval

        def table1(key: str) -> tuple[Decimal, Interval]:
            for row in self.ref.table1:
                if row.key == key:
                    return printed(Decimal(row.actual))
            raise ReferenceDataError(N_("narrative expression: 表1 has no row {key!r}", key=key))

        def stations(kind: str) -> tuple[Decimal, Interval]:
            n = Decimal(sum(s.count for s in self.ref.stations if s.kind == kind))
            return n, Interval.exact(n)

        return {
            "s1": lambda label, column: printed(self.cell("s1", label, column)),
            "s2": lambda label, column: printed(self.cell("s2", label, column)),
            "t2": lambda label, column: printed(self.cell("t2", label, column)),
            "s1plus": lambda label: plus("s1", label),
            "t2plus": lambda label: plus("t2", label),
            "pct": lambda a, b: (a[0] / b[0] * 100, a[1] / b[1] * Interval.exact(100)),
            "governance": governance, "governance_total": governance_total, "stations": stations,
            "t1": table1,
        }

    def evaluate(self, expression: str) -> tuple[Decimal, Interval]:
        try:
            tree = ast.parse(expression, mode="eval")
        except SyntaxError as exc:
            raise ReferenceDataError(N_("narrative_figures.csv: cannot parse expression {expression!r}", expression=expression)) from exc
        funcs = self.functions()

        def ev(node: ast.AST):
            if isinstance(node, ast.Expression):
                return ev(node.body)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return node.value
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
                text = ast.get_source_segment(expression, node) or repr(node.value)
                v = Decimal(text)
                return v, (Interval.exact(v) if isinstance(node.value, int) else Interval.printed(v))
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                v, iv = ev(node.operand)
                return -v, Interval(-iv.hi, -iv.lo)
            if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
                (a, ai), (b, bi) = ev(node.left), ev(node.right)
                op = type(node.op)
                if op is ast.Add:
                    return a + b, ai + bi
                if op is ast.Sub:
                    return a - b, ai - bi
                if op is ast.Mult:
                    return a * b, ai * bi
                return a / b, ai / bi
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in funcs \
                    and not node.keywords:
                return funcs[node.func.id](*[ev(a) for a in node.args])
            raise ReferenceDataError(
                N_("narrative_figures.csv: expression {expression!r} uses something other than numbers, "
                "+ - * / and the functions {funcs}", expression=expression, funcs=', '.join(sorted(funcs)))
            )

        result = ev(tree)
        if not isinstance(result, tuple):
            raise ReferenceDataError(N_("narrative_figures.csv: expression {expression!r} is not a number", expression=expression))
        return result
