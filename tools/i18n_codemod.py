"""Turn English-only message literals into translatable ``N_("template", name=expr)`` messages (libcst).

    python tools/i18n_codemod.py [FILE_OR_FOLDER ...]     # default: src/shuibao; rewrites in place

Every message site (see tools/i18n_sites.py) whose message is a str literal or an f-string (or an implicit
concatenation of them) is rewritten: ``f"{self.path}: {n!r} rows"`` becomes
``N_("{path}: {n!r} rows", path=self.path, n=n)``.  A field is named after the expression (the name, the
last attribute, the key of ``row["key"]``, the argument of ``len``/``sorted``/``str``/``join`` …), else
``value1``, ``value2``; equal expressions share one name.  Sites it cannot convert (``%``, ``.format``,
nested format specs, ``{x=}``) are listed on stderr for a hand fix.  Dev-only: needs libcst.
"""

from __future__ import annotations

import ast
import keyword
import re
import sys
from pathlib import Path

import libcst as cst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from i18n_sites import ISSUE_FUNCS, ISSUE_KEYWORDS, ISSUE_LISTS, ROOT, ROW_LISTS, SOURCES, error_classes, sources  # noqa: E402

WRAPPERS = {"sorted", "list", "tuple", "set", "str", "repr", "int", "float", "abs", "round", "min", "max",
            "frozenset", "dict", "Path", "os.fspath", "fspath"}
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Names:
    """The field names of one message: equal expressions share a name, different ones never do."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.by_code: dict[str, str] = {}
        self.values: dict[str, cst.BaseExpression] = {}
        self.generated = 0

    def _guess(self, node: cst.BaseExpression) -> str:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return node.attr.value
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                key = index.value.evaluated_value
                if isinstance(key, str) and IDENT.match(key):
                    return key
        if isinstance(node, cst.Call):
            func = node.func
            fname = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) \
                else ""
            if fname == "len" and node.args:
                inner = self._guess(node.args[0].value)
                return f"n_{inner}" if inner else "count"
            if (fname in WRAPPERS or fname == "join") and node.args:
                return self._guess(node.args[0].value)
            if fname == "get" and node.args and isinstance(node.args[0].value, cst.SimpleString):  # d.get("key")
                key = node.args[0].value.evaluated_value
                if isinstance(key, str) and IDENT.match(key):
                    return key
            if isinstance(func, cst.Attribute) and not node.args:  # path.as_posix(), text.strip()
                return self._guess(func.value)
            return fname
        return ""

    def name_for(self, node: cst.BaseExpression, before: str = "") -> str:
        code = self.module.code_for_node(node).strip()
        if code in self.by_code:
            return self.by_code[code]
        name = self._guess(node).strip("_")
        said = before.rstrip().rsplit(" ", 1)[-1].lower()
        if not name and isinstance(node, cst.BinaryOperation) and said in ("row", "line", "rows", "lines"):
            name = said.rstrip("s")  # ``row {i + 2}`` (the header is row 1): the row number
        if not name or not IDENT.match(name) or keyword.iskeyword(name) or name in ("self", "cls"):
            self.generated += 1
            name = f"value{self.generated}"
        base, k = name, 2
        while name in self.values:
            name = f"{base}{k}"
            k += 1
        self.by_code[code] = name
        self.values[name] = node
        return name


class Unconvertible(Exception):
    pass


def _template_part(node: cst.BaseExpression, names: Names) -> cst.SimpleString:
    if isinstance(node, cst.SimpleString):
        if "b" in node.prefix.lower():
            raise Unconvertible("bytes")
        raw = node.raw_value.replace("{", "{{").replace("}", "}}")
        return cst.SimpleString(f"{node.prefix}{node.quote}{raw}{node.quote}")
    if isinstance(node, cst.FormattedString):
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text.append(part.value)
                continue
            if part.equal is not None:
                raise Unconvertible("{x=}")
            spec = ""
            if part.format_spec:
                if not all(isinstance(s, cst.FormattedStringText) for s in part.format_spec):
                    raise Unconvertible("nested format spec")
                spec = ":" + "".join(s.value for s in part.format_spec)  # type: ignore[union-attr]
            conv = f"!{part.conversion}" if part.conversion else ""
            text.append("{" + names.name_for(part.expression, "".join(text)) + conv + spec + "}")
        prefix = node.prefix.replace("f", "").replace("F", "")
        quote = node.start[len(node.prefix):]
        return cst.SimpleString(f"{prefix}{quote}{''.join(text)}{quote}")
    raise Unconvertible(type(node).__name__)


def _template(node: cst.BaseExpression, names: Names) -> cst.BaseExpression:
    if isinstance(node, cst.ConcatenatedString):
        return node.with_changes(left=_template(node.left, names), right=_template(node.right, names))
    return _template_part(node, names)


def is_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.ConcatenatedString):
        return is_literal(node.left) and is_literal(node.right)
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value != "" and "b" not in node.prefix.lower()
    return isinstance(node, cst.FormattedString)


def _name(func: cst.BaseExpression) -> tuple[str, str]:
    if isinstance(func, cst.Name):
        return "", func.value
    if isinstance(func, cst.Attribute):
        value = func.value
        receiver = value.value if isinstance(value, cst.Name) else value.attr.value \
            if isinstance(value, cst.Attribute) else ""
        return receiver, func.attr.value
    return "", ""


class Rewrite(cst.CSTTransformer):
    def __init__(self, module: cst.Module, errors: frozenset[str], path: Path) -> None:
        self.module, self.errors, self.path = module, errors, path
        self.changed = 0
        self.skipped: list[str] = []

    def _message_indexes(self, call: cst.Call) -> list[int]:
        receiver, name = _name(call.func)
        positional = [i for i, a in enumerate(call.args) if a.keyword is None and not a.star]
        if name in self.errors and positional:
            return [positional[0]]
        if (name == "add" and receiver in ISSUE_LISTS or name == "Issue") and len(positional) == 3:
            return [positional[2]]
        if name == "append" and receiver in ISSUE_LISTS | ROW_LISTS and len(positional) == 1:
            return [positional[0]]
        if name == "reject" and len(positional) == 1:
            return [positional[0]]
        if name in ISSUE_FUNCS:
            out = [positional[ISSUE_FUNCS[name]]] if len(positional) > ISSUE_FUNCS[name] else []
            return out + [i for i, a in enumerate(call.args) if a.keyword and a.keyword.value in ISSUE_KEYWORDS]
        return []

    def _convert(self, original: cst.CSTNode, value: cst.BaseExpression) -> cst.BaseExpression | None:
        """``N_(template, fields)`` for a literal message, None (listed for a hand fix when odd) otherwise."""
        if not is_literal(value):
            if isinstance(value, cst.BinaryOperation):
                self.skipped.append(self._where(original, "not a literal: " + self.module.code_for_node(value)[:80]))
            return None
        names = Names(self.module)
        try:
            template = _template(value, names)
        except Unconvertible as why:
            self.skipped.append(self._where(original, str(why)))
            return None
        n_args = [cst.Arg(template)] + [
            cst.Arg(expr, keyword=cst.Name(name), equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                                        cst.SimpleWhitespace("")))
            for name, expr in names.values.items()]
        n_args = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                  for a in n_args[:-1]] + n_args[-1:]
        self.changed += 1
        return cst.Call(cst.Name("N_"), n_args)

    def _listed(self, original: cst.CSTNode, value: cst.BaseExpression) -> cst.BaseExpression:
        if isinstance(value, cst.List):
            return value.with_changes(elements=[e.with_changes(value=self._convert(original, e.value) or e.value)
                                                if isinstance(e, cst.Element) else e for e in value.elements])
        if isinstance(value, cst.ListComp):
            return value.with_changes(elt=self._convert(original, value.elt) or value.elt)
        if isinstance(value, cst.IfExp):
            return value.with_changes(body=self._listed(original, value.body), orelse=self._listed(original, value.orelse))
        return value

    @staticmethod
    def _is_list_name(target: cst.BaseExpression) -> bool:
        return isinstance(target, cst.Name) and target.value in ISSUE_LISTS

    def leave_AugAssign(self, original: cst.AugAssign, updated: cst.AugAssign) -> cst.AugAssign:
        if self._is_list_name(updated.target):
            return updated.with_changes(value=self._listed(original, updated.value))
        return updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        if any(self._is_list_name(t.target) for t in updated.targets):
            return updated.with_changes(value=self._listed(original, updated.value))
        return updated

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        if updated.value is not None and self._is_list_name(updated.target):
            return updated.with_changes(value=self._listed(original, updated.value))
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        args = list(updated.args)
        for i in self._message_indexes(updated):
            new = self._convert(original, args[i].value)
            if new is None:
                continue
            args[i] = args[i].with_changes(value=new)
        return updated.with_changes(args=args)

    def _where(self, node: cst.CSTNode, why: str) -> str:
        return f"{self.path.relative_to(ROOT)}: {why}"


def _module_name(path: Path) -> list[str]:
    return list(path.relative_to(ROOT / "src").with_suffix("").parts)


def _imports_errors(node: cst.ImportFrom, path: Path) -> bool:
    level = len(node.relative)
    module = cst.Module([]).code_for_node(node.module) if node.module else ""
    if level:
        package = _module_name(path)[:-level]
        target = ".".join(package + ([module] if module else []))
    else:
        target = module
    return target == "shuibao.errors"


def add_import(module: cst.Module, path: Path) -> cst.Module:
    body = list(module.body)
    for k, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.ImportFrom):
            imp = stmt.body[0]
            if _imports_errors(imp, path) and not isinstance(imp.names, cst.ImportStar):
                names = list(imp.names)
                if any(a.name.value == "N_" for a in names if isinstance(a.name, cst.Name)):
                    return module
                last = names[-1]
                names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                names.append(cst.ImportAlias(cst.Name("N_"), comma=last.comma)
                             if not isinstance(last.comma, cst.MaybeSentinel) else cst.ImportAlias(cst.Name("N_")))
                body[k] = stmt.with_changes(body=[imp.with_changes(names=names)])
                return module.with_changes(body=body)
    after = 0
    for k, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom)):
            after = k + 1
        elif k == 0 and isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr):
            after = 1
        elif after:
            break
    body.insert(after, cst.parse_statement("from shuibao.errors import N_\n"))
    return module.with_changes(body=body)


def main(argv: list[str]) -> int:
    errors = error_classes()
    targets = [Path(a).resolve() for a in argv] or [SOURCES]
    files = [p for t in targets for p in (sources(t) if t.is_dir() else [t])]
    total = 0
    for path in files:
        if path == SOURCES / "errors.py":
            continue
        text = path.read_text(encoding="utf-8")
        module = cst.parse_module(text)
        rewrite = Rewrite(module, errors, path)
        new = module.visit(rewrite)
        for line in rewrite.skipped:
            print("hand-fix:", line, file=sys.stderr)
        if rewrite.changed:
            new = add_import(new, path)
            path.write_text(new.code, encoding="utf-8")
            ast.parse(new.code)
            total += rewrite.changed
            print(f"{path.relative_to(ROOT)}: {rewrite.changed}")
    print(f"{total} messages converted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
