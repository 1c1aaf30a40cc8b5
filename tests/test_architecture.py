"""The import rules of docs/architecture.md, checked on the source tree.

Layers go one way: ``core`` ← domain packages ← ``services`` ← ``demo`` ← ``web``/``cli``; ``io`` and ``store`` are
adapters below the domain; no package imports one of a higher layer, no two packages of the same layer import
each other (except the chapters of ``services``, which may call each other but not in a circle), and the CLI and
the web application reach the store and the domain only through the services.  Every ``import`` counts, also
one inside a function.

The checker runs on any tree, so the last tests plant violations in a copy and show they are caught.
"""

from __future__ import annotations

import ast
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shuibao"

# layer of each top-level unit ("services.x" is a chapter of the services); a unit may import a lower layer,
# never a higher one nor another unit of its own layer (services' chapters excepted, see SIBLINGS_ALLOWED)
LAYERS: dict[str, int] = {
    "errors": 0, "__init__": 0,
    "grid": 1, "datafiles": 1,
    "core": 2,
    "io": 3, "store": 3, "spreadsheet": 3,
    "plan": 4,
    "vocabulary": 5,
    "erosion": 6, "monitoring": 6, "supervision": 6, "governance": 6, "stations": 6, "assessment": 6,
    "reports": 7,
    "services": 8,
    "demo": 9,
    "web": 10,
    "cli": 11,
}
SIBLINGS_ALLOWED = {"services"}  # chapters may use each other's use cases (acyclic)
# the entry points stay thin: they call services (and the demo, for `shuibao demo`), never the store or a domain
ENTRY_POINTS_MAY_IMPORT = {"errors", "__init__", "io", "spreadsheet", "vocabulary", "services", "demo", "web", "cli"}


def unit_of(module: str) -> str:
    """``shuibao.services.monitoring.runs`` → ``services.monitoring``; ``shuibao.core.csle`` → ``core``."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[0] == "services" and len(parts) > 1:
        return f"services.{parts[1]}"
    return parts[0]


def layer_of(unit: str) -> int:
    return LAYERS[unit.split(".")[0]]


def imports_of(src: Path) -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) → the places ``file:line`` where the first imports the second."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from shuibao.services import auth` names a module: count the module, not the package
                targets = [f"{stem}.{a.name}" if _is_module(src.parent, f"{stem}.{a.name}") else stem
                           for a in node.names]
            else:
                continue
            for target in targets:
                if target == "shuibao" or target.startswith("shuibao."):
                    a, b = unit_of(module), unit_of(target)
                    place = f"{path.relative_to(src.parent)}:{node.lineno}"
                    if a != b and place not in edges[(a, b)]:
                        edges[(a, b)].append(place)
    return edges


def _is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def violations(src: Path) -> list[str]:
    """Every broken rule, one line each (empty when the tree keeps them all)."""
    edges = imports_of(src)
    out = []
    for (a, b), where in sorted(edges.items()):
        top_a, top_b = a.split(".")[0], b.split(".")[0]
        if top_a not in LAYERS or top_b not in LAYERS:
            out.append(f"{a} → {b}: a unit docs/architecture.md does not place ({where[0]})")
        elif layer_of(b) > layer_of(a):
            out.append(f"{a} → {b}: upward import ({', '.join(where[:3])})")
        elif layer_of(b) == layer_of(a) and top_a != top_b:
            out.append(f"{a} → {b}: two packages of one layer ({', '.join(where[:3])})")
        elif top_a == top_b and top_a not in SIBLINGS_ALLOWED:
            out.append(f"{a} → {b}: unexpected sibling import ({', '.join(where[:3])})")
        elif top_a in ("cli", "web") and top_b not in ENTRY_POINTS_MAY_IMPORT:
            out.append(f"{a} → {b}: the entry points go through the services ({', '.join(where[:3])})")
    out += [f"circle: {' → '.join(c)}" for c in cycles({k for k in edges})]
    return out


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The elementary circles among units, each once (from its smallest unit)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    found = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                found.append(path + [start])
            elif nxt > start and nxt not in path:
                walk(start, nxt, path + [nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_the_source_tree_keeps_the_import_rules():
    assert violations(SRC) == []


def test_every_package_has_a_layer():
    units = {p.name.removesuffix(".py") for p in SRC.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert units - set(LAYERS) == set(), "place the new package in LAYERS and in docs/architecture.md"


@pytest.fixture()
def tree(tmp_path):
    copy = tmp_path / "shuibao"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "data", "static", "templates"))
    return copy


def _plant(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _planted():\n    {line}\n", encoding="utf-8")


def test_a_planted_upward_import_is_caught(tree):
    _plant(tree / "core" / "csle.py", "from shuibao.services.monitoring import runs  # noqa")
    found = violations(tree)
    assert any(v.startswith("core → services.monitoring: upward import (shuibao/core/csle.py:") for v in found), found


def test_a_planted_entry_point_reaching_the_store_is_caught(tree):
    _plant(tree / "web" / "app.py", "from ..store import schema  # noqa")
    assert any(v.startswith("web → store: the entry points go through the services") for v in violations(tree))


def test_a_planted_circle_between_chapters_is_caught(tree):
    # platform is used by every chapter; the planted import makes a circle platform → supervision → platform
    _plant(tree / "services" / "platform" / "auth.py", "from shuibao.services.supervision import cases  # noqa")
    found = violations(tree)
    assert any(v.startswith("circle: services.platform → services.supervision → services.platform")
               or v.startswith("circle: services.platform → services.supervision") for v in found), found


def test_a_planted_domain_to_domain_import_is_caught(tree):
    _plant(tree / "stations" / "qc.py", "from shuibao.supervision import cases  # noqa")
    assert any(v.startswith("stations → supervision: two packages of one layer") for v in violations(tree))


CHAPTER_FOLDERS = {f"services/{c}" for c in
                   ("monitoring", "supervision", "governance", "stations", "assessment", "reporting", "platform")}


def _command_table() -> list[tuple[str, list[str]]]:
    """(command, [service paths]) from docs/architecture.md's table; a bare file name takes the folder before it."""
    text = (SRC.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Where each of the plan's functions lives", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        paths, folder = [], ""
        for name in (n.strip(" `") for n in cells[2].split(",")):
            if "/" in name:
                folder = name.rstrip("/") if name.endswith("/") else name.rsplit("/", 1)[0]
            paths.append(name if "/" in name else f"{folder}/{name}")
        rows.append((cells[0], paths))
    return rows


def test_every_readme_command_has_a_chapter_service():
    rows = _command_table()
    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    groups = {line.split()[1] for line in readme.splitlines()
              if line.startswith("shuibao ") and not line.split()[1].startswith("-")}
    listed = {cmd.strip(" `").split()[0] for cell, _ in rows for cmd in cell.split(",")}
    assert groups - listed == set(), "a README command group missing from docs/architecture.md's table"
    for command, paths in rows:
        for path in paths:
            assert (SRC / path).exists(), f"{command}: {path} does not exist"
            folder = path.rstrip("/") if path.endswith("/") else path.rsplit("/", 1)[0]
            assert folder in CHAPTER_FOLDERS | {"demo", "web"}, f"{command}: {path} is not in a chapter's folder"


def test_the_tests_mirror_the_packages():
    """tests/<package>/ for a package of src/ (plus the security suite, the real-data checks and the benchmarks'
    smoke tests); a folder named for nothing in src/ is a test nobody will find."""
    tests = Path(__file__).resolve().parent
    folders = {d.name for d in tests.iterdir() if (d / "__init__.py").exists()}
    assert folders - set(LAYERS) - {"security", "validation", "benchmarks"} == set()
