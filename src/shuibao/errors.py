"""One exception root for the whole platform.

Like rasterio, every error Shuibao raises on purpose derives from
:class:`ShuibaoError` *and* from the built-in that fits, so callers can catch
either ``ShuibaoError`` or the usual ``ValueError`` / ``OSError`` / ``KeyError``.
The CLI turns a ``ShuibaoError`` into one actionable line and exit code 2.
"""

from __future__ import annotations


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
