"""Where a translatable message is passed (shared by tools/i18n_catalogue.py and tools/i18n_codemod.py).

A *message site* is a call whose argument is shown to a user as an error or a validation problem:

- the first argument of a :class:`shuibao.errors.ShuibaoError` subclass (raised or built);
- the message of ``issues.add(where, field, message)`` / ``problems.add(...)`` and ``Issue(where, field, message)``;
- the item of ``problems.append(message)`` / ``issues.append(message)`` (lists handed to ``raise_issues``);
- a row report's ``rep.reject(message)`` and ``rep.messages.append(message)``
  (shown per row in import reports);
- the subject, ``context=`` and ``hint=`` of ``raise_issues`` / ``issues_error`` / ``format_issues`` /
  ``raise_if_any``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "src" / "shuibao"
ISSUE_LISTS = frozenset({"issues", "problems"})
ROW_LISTS = frozenset({"messages"})
ISSUE_FUNCS = {"raise_issues": 1, "issues_error": 1, "format_issues": 1, "raise_if_any": 0}
ISSUE_KEYWORDS = frozenset({"subject", "context", "hint"})


def sources(root: Path = SOURCES) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def error_classes(root: Path = SOURCES) -> frozenset[str]:
    """Names of every class deriving (through the sources) from ShuibaoError, ShuibaoError included."""
    bases: dict[str, set[str]] = {}
    for path in sources(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, (ast.Name, ast.Attribute))}
                bases.setdefault(node.name, set()).update(names)
    found = {"ShuibaoError"}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in found and parents & found:
                found.add(name)
                grew = True
    return frozenset(found)


def call_name(func: ast.expr) -> tuple[str, str]:
    """(receiver, name) of a call's function: ``issues.add`` -> ("issues", "add"), ``X`` -> ("", "X")."""
    if isinstance(func, ast.Name):
        return "", func.id
    if isinstance(func, ast.Attribute):
        value = func.value
        receiver = value.id if isinstance(value, ast.Name) else value.attr if isinstance(value, ast.Attribute) else ""
        return receiver, func.attr
    return "", ""


def message_args(call: ast.Call, errors: frozenset[str]) -> list[ast.expr]:
    """The arguments of ``call`` that are messages (empty when the call is not a message site)."""
    receiver, name = call_name(call.func)
    out: list[ast.expr] = []
    if name in errors and call.args:
        out.append(call.args[0])
    elif name == "add" and receiver in ISSUE_LISTS and len(call.args) == 3:
        out.append(call.args[2])
    elif name == "Issue" and len(call.args) == 3:
        out.append(call.args[2])
    elif name == "reject" and len(call.args) == 1:
        out.append(call.args[0])
    elif name == "append" and receiver in ISSUE_LISTS | ROW_LISTS and len(call.args) == 1:
        out.append(call.args[0])
    elif name in ISSUE_FUNCS:
        index = ISSUE_FUNCS[name]
        if len(call.args) > index:
            out.append(call.args[index])
        out += [k.value for k in call.keywords if k.arg in ISSUE_KEYWORDS]
    return out


def listed_messages(node: ast.expr) -> list[ast.expr]:
    """The items of a list display, comprehension or ``a if c else b`` of them given to a problems list."""
    if isinstance(node, ast.List):
        return list(node.elts)
    if isinstance(node, ast.ListComp):
        return [node.elt]
    if isinstance(node, ast.IfExp):
        return listed_messages(node.body) + listed_messages(node.orelse)
    return []


def assigned_messages(node: ast.AST) -> list[ast.expr]:
    """The messages of ``problems += [...]`` / ``problems = [...]`` / ``problems: list[...] = [...]``."""
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    elif isinstance(node, ast.Assign):
        targets = node.targets
    else:
        return []
    if node.value is None or not any(isinstance(t, ast.Name) and t.id in ISSUE_LISTS for t in targets):
        return []
    return listed_messages(node.value)


def is_plain_text(node: ast.expr) -> bool:
    """A str literal, an f-string, ``"…".format(…)``, ``"…" % …`` or ``+`` of them: English-only text."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return is_plain_text(node.func.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return is_plain_text(node.left) or (isinstance(node.op, ast.Add) and is_plain_text(node.right))
    return False
