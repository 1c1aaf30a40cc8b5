"""The message catalogue src/shuibao/locale/zh_CN/LC_MESSAGES/shuibao.po (gettext PO, read and written with Babel).

    python tools/i18n_catalogue.py                 # update: add new N_ templates (empty msgstr), drop unused ones
    python tools/i18n_catalogue.py --check         # exit 1 listing untranslated / mismatched / English-only sites
    python tools/i18n_catalogue.py --untranslated [--under src/shuibao/<pkg>] [-o FRAGMENT.po]
                                                   # the still-empty entries, as a fragment for a translator
    python tools/i18n_catalogue.py --merge FRAGMENT.po [...]   # copy the fragment's msgstr values in

msgid is the English template of ``N_("template", **fields)``; msgstr is the Chinese one, with the same
``{fields}`` (see docs/i18n.md).
"""

from __future__ import annotations

import argparse
import ast
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))
from i18n_sites import (  # noqa: E402
    ROOT, SOURCES, assigned_messages, call_name, error_classes, is_plain_text, message_args, sources,
)

CATALOGUE = SOURCES / "locale" / "zh_CN" / "LC_MESSAGES" / "shuibao.po"


@dataclass
class Found:
    templates: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # template -> [(file, line)]
    plain: list[str] = field(default_factory=list)  # "file:line: ..." English-only message sites


def extract(root: Path = SOURCES) -> Found:
    """Every ``N_("literal", ...)`` template under ``root`` and every message site still given plain text."""
    errors = error_classes()
    found = Found()
    for path in sources(root):
        rel = (path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.relative_to(root)).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if path != SOURCES / "errors.py":
                for arg in assigned_messages(node):
                    if is_plain_text(arg):
                        found.plain.append(f"{rel}:{arg.lineno}: English-only message (wrap it in N_(...))")
            if not isinstance(node, ast.Call):
                continue
            if call_name(node.func) == ("", "N_") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.templates.setdefault(arg.value, []).append((rel, node.lineno))
                else:
                    found.plain.append(f"{rel}:{node.lineno}: N_ needs a literal template")
            elif path != SOURCES / "errors.py":
                for arg in message_args(node, errors):
                    if is_plain_text(arg):
                        found.plain.append(f"{rel}:{arg.lineno}: English-only message (wrap it in N_(...))")
    return found


def needs_translation(template: str) -> bool:
    """False for a template that is only fields and punctuation (``"{path}: {reason}"``)."""
    text = "".join(literal for literal, *_ in string.Formatter().parse(template))
    return any(c.isalpha() for c in text)


def fields_of(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return {"<malformed>"}


HEADER = ("# Shuibao's messages in Chinese: msgid is the English template, msgstr the Chinese one, with the same\n"
          "# {fields}.  Written by tools/i18n_catalogue.py (see docs/i18n.md).")


def new_catalog(like: Catalog | None = None) -> Catalog:
    return Catalog(locale="zh_CN", domain="shuibao", project="shuibao", version="1", charset="utf-8", fuzzy=False,
                   header_comment=HEADER, last_translator="Shuibao developers", language_team="zh_CN",
                   creation_date=like.creation_date if like else None,
                   revision_date=like.revision_date if like else None)


def load(path: Path = CATALOGUE) -> Catalog:
    if not path.is_file():
        return new_catalog()
    with path.open("rb") as fh:
        return read_po(fh, locale="zh_CN", domain="shuibao")


def save(catalog: Catalog, path: Path = CATALOGUE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=False, omit_header=False, ignore_obsolete=True)


def update(found: Found, catalog: Catalog) -> Catalog:
    """A catalogue of exactly the templates in use, each keeping its translation; in first-use order."""
    out = new_catalog(catalog)
    for template, where in sorted(found.templates.items(), key=lambda kv: kv[1][0]):
        if not needs_translation(template):
            continue
        old = catalog.get(template)
        out.add(template, old.string if old else "", locations=where, flags=("python-brace-format",))
    return out


def problems(found: Found, catalog: Catalog) -> list[str]:
    out = list(found.plain)
    for template, where in found.templates.items():
        if not needs_translation(template):
            continue
        entry = catalog.get(template)
        at = f"{where[0][0]}:{where[0][1]}"
        if entry is None:
            out.append(f"{at}: not in the catalogue (run tools/i18n_catalogue.py): {template!r}")
        elif not entry.string:
            out.append(f"{at}: no Chinese translation: {template!r}")
        elif fields_of(entry.string) != fields_of(template):
            out.append(f"{at}: fields differ: the translation's fields {sorted(fields_of(entry.string))} differ from "
                       f"{sorted(fields_of(template))}: {template!r}")
    return out


def untranslated(found: Found, catalog: Catalog, under: Path | None) -> Catalog:
    prefix = under.resolve().relative_to(ROOT).as_posix() + ("/" if under.is_dir() else "") if under else ""
    out = new_catalog(catalog)
    for message in catalog:
        if not message.id or message.string:
            continue
        if prefix and not any(f.startswith(prefix) for f, _ in message.locations):
            continue
        out.add(message.id, "", locations=message.locations, flags=message.flags)
    return out


def merge(catalog: Catalog, fragment: Path) -> list[str]:
    """Copy every filled msgstr of ``fragment`` whose msgid is in the catalogue; returns what was refused."""
    refused = []
    for message in load(fragment):
        if not message.id or not message.string:
            continue
        entry = catalog.get(message.id)
        if entry is None:
            refused.append(f"{fragment}: not in the catalogue: {message.id!r}")
        elif fields_of(message.string) != fields_of(message.id):
            refused.append(f"{fragment}: fields differ: {message.id!r} -> {message.string!r}")
        else:
            entry.string = message.string
    return refused


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--untranslated", action="store_true")
    ap.add_argument("--under", type=Path)
    ap.add_argument("-o", "--output", type=Path)
    ap.add_argument("--merge", type=Path, nargs="+")
    args = ap.parse_args(argv)
    found = extract()
    catalog = load()
    if args.check:
        listed = problems(found, catalog)
        for line in listed:
            print(line)
        total = sum(1 for m in catalog if m.id)
        done = sum(1 for m in catalog if m.id and m.string)
        print(f"{done}/{total} translated; {len(listed)} problem(s)", file=sys.stderr)
        return 1 if listed else 0
    catalog = update(found, catalog)
    if args.untranslated:
        fragment = untranslated(found, catalog, args.under)
        if args.output:
            save(fragment, args.output)
        else:
            write_po(sys.stdout.buffer, fragment, width=0, sort_output=False)
        print(f"{sum(1 for m in fragment if m.id)} untranslated", file=sys.stderr)
        return 0
    refused = []
    for fragment_path in args.merge or []:
        refused += merge(catalog, fragment_path)
    save(catalog)
    for line in refused:
        print(line, file=sys.stderr)
    print(f"{CATALOGUE.relative_to(ROOT)}: {sum(1 for m in catalog if m.id)} entries, "
          f"{sum(1 for m in catalog if m.id and m.string)} translated", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
