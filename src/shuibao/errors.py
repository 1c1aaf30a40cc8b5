"""One exception root for the whole platform.

Like rasterio, every error Shuibao raises on purpose derives from
:class:`ShuibaoError` *and* from the built-in that fits, so callers can catch
either ``ShuibaoError`` or the usual ``ValueError`` / ``OSError`` / ``KeyError``.
The CLI turns a ``ShuibaoError`` into one actionable line and exit code 2.

Every message is written once, in English, as a :class:`Message` (``N_(template, **fields)``): ``str(err)``
is the English line (logs, tests), :func:`render_error` gives it in the user's language (zh by default) from
the gettext catalogue ``shuibao/locale/zh_CN/LC_MESSAGES/shuibao.po`` (see docs/i18n.md).  消息：中英双语。
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh", "en")
_LOCALES = {"zh": "zh_CN"}  # language -> catalogue folder under shuibao/locale; English is the msgid itself


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The translations of one language (msgid -> msgstr, only the filled, non-fuzzy ones), read once with Babel."""
    locale = _LOCALES.get(lang)
    if locale is None:
        return {}
    from babel.messages.pofile import read_po

    path = resources.files("shuibao") / "locale" / locale / "LC_MESSAGES" / "shuibao.po"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=locale)
    return {m.id: m.string for m in cat
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy}


def _render(part: object, lang: str) -> str:
    if isinstance(part, (Text, Issue)):
        return part.render(lang)
    return render_error(part, lang) if isinstance(part, BaseException) else str(part)


class Text:
    """A message that renders in either language (:class:`Message`, :class:`Joined`); ``str()`` is English."""

    def render(self, lang: str = "en") -> str:
        raise NotImplementedError

    def transform(self, fn: Callable[[str], str]) -> Text:
        """The same message with ``fn`` applied to every plain-text value (e.g. to cut a server path)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render("en")

    def __contains__(self, text: str) -> bool:  # ``"x" in err.args[0]`` as for a str
        return text in str(self)

    # compared, hashed and sorted by the English text, so a message equals the str it replaced
    def __eq__(self, other: object) -> bool:
        return isinstance(other, (Text, str)) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)


@dataclass(frozen=True, eq=False)
class Message(Text):
    """One translatable message: an English ``template`` (str.format syntax, named fields) and its ``fields``.

    ``render(lang)`` formats the catalogue's translation of the template with the same fields (a field that is
    itself a :class:`Text` renders in the same language); a missing translation falls back to English.
    """

    template: str
    fields: tuple[tuple[str, Any], ...] = ()

    def render(self, lang: str = "en") -> str:
        values = {k: _render(v, lang) if isinstance(v, (Text, Issue, ShuibaoError)) else v for k, v in self.fields}
        text = catalogue(lang).get(self.template, self.template) if lang != "en" else self.template
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):  # a broken translation must not hide the error itself
            return self.template.format(**values)

    def transform(self, fn: Callable[[str], str]) -> Message:
        return Message(self.template, tuple((k, _transform_value(v, fn)) for k, v in self.fields))


def join_texts(separator: str, items: Iterable[Any]) -> Joined:
    """``items`` (messages or plain strings) with ``separator`` between them, as one message."""
    parts: list[Any] = []
    for item in items:
        parts += [separator, item] if parts else [item]
    return Joined(tuple(parts))


def N_(template: str, /, **fields: Any) -> Message:  # noqa: N802 - gettext's conventional marker name
    """Mark ``template`` (English, ``{name}`` fields) as a translatable message; see docs/i18n.md."""
    return Message(template, tuple(fields.items()))


@dataclass(frozen=True, eq=False)
class Joined(Text):
    """Parts (texts, issues or plain strings such as separators) rendered one after another."""

    parts: tuple[Any, ...]

    def render(self, lang: str = "en") -> str:
        return "".join(_render(p, lang) for p in self.parts)

    def transform(self, fn: Callable[[str], str]) -> Joined:
        return Joined(tuple(_transform_value(p, fn) for p in self.parts))


def _transform_value(value: object, fn: Callable[[str], str]) -> object:
    """``fn`` applied to a field: into a message, through a path or another error's text; numbers stay as they are."""
    if isinstance(value, (Text, Issue)):
        return value.transform(fn)
    if isinstance(value, ShuibaoError) and value.args and isinstance(value.args[0], Text):
        return value.args[0].transform(fn)
    if isinstance(value, (str, os.PathLike, BaseException)):
        return fn(str(value))
    return value


def as_text(message: object, fn: Callable[[str], str]) -> object:
    """``fn`` applied to a plain message, or to every plain value of a :class:`Text`."""
    if isinstance(message, (Text, Issue)):
        return message.transform(fn)
    return _transform_value(message, fn)


def render_error(err: BaseException, lang: str = "zh") -> str:
    """The error's line for the user in ``lang`` (``str(err)`` is always the English one)."""
    if isinstance(err, ShuibaoError) and err.args and isinstance(err.args[0], Text):
        return err.args[0].render(lang)
    return str(err)


class ShuibaoError(Exception):
    """Root of all deliberate Shuibao errors.

    ``str(err)`` is the one line shown to the user: which file, which field,
    what was expected (in English; :func:`render_error` in the user's language).  The message is an
    ``N_("template", **fields)`` :class:`Message`.
    """

    @property
    def message(self) -> Text | str:
        return self.args[0] if self.args else ""

    def render(self, lang: str = "zh") -> str:
        return render_error(self, lang)

    exit_code = 2


class InputError(ShuibaoError, ValueError):
    """A user-supplied value, file or option is not acceptable."""


class FactorError(InputError):
    """A CSLE factor or the soil loss is negative, NaN or infinite on cells with data: the inputs (or a table)
    give a value the equation cannot use.  Never graded: the run stops (CLI exit 2)."""


class DataError(ShuibaoError, OSError):
    """A data file or database could not be read or written as expected."""


class DiskFullError(DataError):
    """The disk (or quota) of an output filled up during a write; the write was undone."""


class ReferenceDataError(DataError):
    """A reference data file shipped with the package (or replacing it) is malformed."""


class UnknownUnitError(ShuibaoError, KeyError):
    """A district, region or other spatial unit name/code is not known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StoreError(DataError):
    """The database cannot be opened, is locked, corrupt or of the wrong version."""


class SchemaVersionError(StoreError):
    """The database schema is older or newer than this version of Shuibao expects."""


class NotFoundError(InputError, LookupError):
    """A record named by the caller (a case, project, run…) does not exist."""


class AuthenticationError(ShuibaoError, PermissionError):
    """No valid credentials: not logged in, a wrong password, an expired session or an unknown API key."""


class PermissionDeniedError(ShuibaoError, PermissionError):
    """The caller is known but their role (or district) does not allow the operation."""


class ConflictError(StoreError):
    """Someone else changed the record at the same moment; reload it and retry."""


class RateLimitedError(ShuibaoError, PermissionError):
    """Too many attempts (failed logins): refused until ``retry_after`` seconds have passed, whatever is sent."""

    def __init__(self, message: Text | str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class Issue:
    """One problem a validator found: *where* (a file, a run-spec section, a row), *field* (the key, column or
    option; may be empty) and *message* (what was found and what was expected).

    ``str(issue)`` is ``"{where} {field}: {message}"``, e.g. ``[grid] crs: 'EPSG:3857' is Web Mercator ...``.
    """

    where: Text | str
    field: Text | str
    message: Text | str

    def render(self, lang: str = "en") -> str:
        head = " ".join(_render(part, lang) for part in (self.where, self.field) if part)
        message = _render(self.message, lang)
        if not head:
            return message
        return f"{head}：{message}" if lang == "zh" else f"{head}: {message}"

    def transform(self, fn: Callable[[str], str]) -> Issue:
        return Issue(as_text(self.where, fn), as_text(self.field, fn), as_text(self.message, fn))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.render("en")


class Issues(list):
    """The problems a validator collects before it stops: every problem is reported at once (InVEST's habit).

    ``issues.add(where, field, message)`` records one; ``issues.raise_if_any(subject)`` raises one error that
    lists them all, in the one format every validator uses (:func:`raise_issues`).
    """

    def add(self, where: str, field: str, message: Text | str) -> None:
        self.append(Issue(where, field, message))

    def raise_if_any(self, subject: Text | str, *, context: Text | str = "", error: type[ShuibaoError] = InputError) -> None:
        if self:
            raise_issues(self, subject, context=context, error=error)


def format_issues(issues: Iterable[Issue | Text | str], subject: Text | str, *, context: Text | str = "",
                  limit: int | None = None, hint: Text | str = "") -> Joined:
    """``"{subject}: N problem(s){ context}:"`` followed by one ``"  - issue"`` line per problem.

    With ``limit`` only the first ``limit`` problems are listed, then ``"  - … K more"``; N still counts them all.
    A ``hint`` (what to do next) ends the text on its own line.  The result renders in either language.
    """
    items: list[Any] = list(issues)
    head: Text = (N_("{count} problem(s) {context}", count=len(items), context=context) if context else
                  N_("{count} problem(s)", count=len(items)))
    if subject:
        head = N_("{subject}: {problems}", subject=subject, problems=head)
    shown = items if limit is None or len(items) <= limit else (
        items[:limit] + [N_("… {count} more", count=len(items) - limit)])
    parts: list[Any] = [head, ":"]
    for item in shown:
        parts += ["\n  - ", item]
    if hint:
        parts += ["\n", hint]
    return Joined(tuple(parts))


def issues_error(issues: Iterable[Issue | Text | str], subject: Text | str, *, context: Text | str = "",
                 limit: int | None = None, hint: Text | str = "",
                 error: type[ShuibaoError] = InputError) -> ShuibaoError:
    """The error listing every issue (:func:`format_issues`), keeping them all in ``.issues``."""
    items = list(issues)
    err = error(format_issues(items, subject, context=context, limit=limit, hint=hint))
    err.issues = tuple(i if isinstance(i, Issue) else Issue("", "", i) for i in items)  # type: ignore[attr-defined]
    return err


def raise_issues(issues: Iterable[Issue | Text | str], subject: Text | str, *, context: Text | str = "",
                 limit: int | None = None, hint: Text | str = "", error: type[ShuibaoError] = InputError) -> None:
    """Raise *error* listing every issue (the one way a validator reports "N problems"); the error keeps them
    in ``.issues`` so the web can answer each as an item.  Does nothing when there are none."""
    items = list(issues)
    if items:
        raise issues_error(items, subject, context=context, limit=limit, hint=hint, error=error)
