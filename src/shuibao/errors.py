"""One exception root for the whole platform.

Like rasterio, every error Shuibao raises on purpose derives from
:class:`ShuibaoError` *and* from the built-in that fits, so callers can catch
either ``ShuibaoError`` or the usual ``ValueError`` / ``OSError`` / ``KeyError``.
The CLI turns a ``ShuibaoError`` into one actionable line and exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class ShuibaoError(Exception):
    """Root of all deliberate Shuibao errors.

    ``str(err)`` is the one line shown to the user: which file, which field,
    what was expected.
    """

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

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class Issue:
    """One problem a validator found: *where* (a file, a run-spec section, a row), *field* (the key, column or
    option; may be empty) and *message* (what was found and what was expected).

    ``str(issue)`` is ``"{where} {field}: {message}"``, e.g. ``[grid] crs: 'EPSG:3857' is Web Mercator ...``.
    """

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        head = " ".join(part for part in (self.where, self.field) if part)
        return f"{head}: {self.message}" if head else self.message


class Issues(list):
    """The problems a validator collects before it stops: every problem is reported at once (InVEST's habit).

    ``issues.add(where, field, message)`` records one; ``issues.raise_if_any(subject)`` raises one error that
    lists them all, in the one format every validator uses (:func:`raise_issues`).
    """

    def add(self, where: str, field: str, message: str) -> None:
        self.append(Issue(where, field, message))

    def raise_if_any(self, subject: str, *, context: str = "", error: type[ShuibaoError] = InputError) -> None:
        if self:
            raise_issues(self, subject, context=context, error=error)


def format_issues(issues: Iterable[Issue | str], subject: str, *, context: str = "", limit: int | None = None,
                  hint: str = "") -> str:
    """``"{subject}: N problem(s){ context}:"`` followed by one ``"  - issue"`` line per problem.

    With ``limit`` only the first ``limit`` problems are listed, then ``"  - … K more"``; N still counts them all.
    A ``hint`` (what to do next) ends the text on its own line.
    """
    items = [str(i) for i in issues]
    head = f"{len(items)} problem(s)" + (f" {context}" if context else "")
    if subject:
        head = f"{subject}: {head}"
    shown = items if limit is None or len(items) <= limit else items[:limit] + [f"… {len(items) - limit} more"]
    return head + ":\n  - " + "\n  - ".join(shown) + (f"\n{hint}" if hint else "")


def issues_error(issues: Iterable[Issue | str], subject: str, *, context: str = "", limit: int | None = None,
                 hint: str = "", error: type[ShuibaoError] = InputError) -> ShuibaoError:
    """The error listing every issue (:func:`format_issues`), keeping them all in ``.issues``."""
    items = list(issues)
    err = error(format_issues(items, subject, context=context, limit=limit, hint=hint))
    err.issues = tuple(i if isinstance(i, Issue) else Issue("", "", str(i)) for i in items)  # type: ignore[attr-defined]
    return err


def raise_issues(issues: Iterable[Issue | str], subject: str, *, context: str = "", limit: int | None = None,
                 hint: str = "", error: type[ShuibaoError] = InputError) -> None:
    """Raise *error* listing every issue (the one way a validator reports "N problems"); the error keeps them
    in ``.issues`` so the web can answer each as an item.  Does nothing when there are none."""
    items = list(issues)
    if items:
        raise issues_error(items, subject, context=context, limit=limit, hint=hint, error=error)
