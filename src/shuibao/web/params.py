"""Bounded query and path parameters: a number outside what the store can hold, or a year no record can
have, is a 422 with the parameter's name — not an overflow deep in the database driver (a 500)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Path, Query, Response

from ..services.platform.database import MAX_ROW_ID

# The platform's records start with the plan's 2020 baseline; monitoring series may reach back to the 1950s
# (the first national soil-erosion surveys).  2200 leaves room for scenarios far beyond the plan.
FIRST_YEAR, LAST_YEAR = 1950, 2200
# The most rows one page of a list endpoint (/api/cases, /api/audit, /api/runs, /api/projects) returns: a page
# a browser renders at once; more is a download (/api/download/…), not a page.
MAX_LIST_PAGE = 1000
TOTAL_HEADER = "X-Total-Count"  # the number of rows matching, whatever the page (分页总数)

Year = Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description=f"A year, {FIRST_YEAR}–{LAST_YEAR}")]
RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID, description="A record id")]
AuditLimit = Annotated[int, Query(ge=1, le=MAX_LIST_PAGE, description=f"At most this many entries (1–{MAX_LIST_PAGE})")]
PageLimit = Annotated[int, Query(ge=1, le=10_000, description="Features per page (1–10000)")]
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Features to skip")]
# a list endpoint's page: no limit is every row (as before paging); the total is in the X-Total-Count header
ListLimit = Annotated[int | None, Query(ge=1, le=MAX_LIST_PAGE,
                                        description=f"Rows per page (1–{MAX_LIST_PAGE}); none: every row")]
ListOffset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Rows to skip (0 or more)")]

T = TypeVar("T")


def paged(rows: Sequence[T], response: Response, limit: int | None, offset: int) -> list[T]:
    """One page of ``rows`` (all of them already matching), the total in the X-Total-Count header."""
    response.headers[TOTAL_HEADER] = str(len(rows))
    return list(rows[offset:] if limit is None else rows[offset:offset + limit])


def counted(total: int, response: Response) -> None:
    """The total of a list paged in the store (the audit log): the X-Total-Count header."""
    response.headers[TOTAL_HEADER] = str(total)
