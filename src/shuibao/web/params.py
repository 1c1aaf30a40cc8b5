"""Bounded query and path parameters: a number outside what the store can hold, or a year no record can
have, is a 422 with the parameter's name — not an overflow deep in the database driver (a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from ..services.platform.database import MAX_ROW_ID

# The platform's records start with the plan's 2020 baseline; monitoring series may reach back to the 1950s
# (the first national soil-erosion surveys).  2200 leaves room for scenarios far beyond the plan.
FIRST_YEAR, LAST_YEAR = 1950, 2200

Year = Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description=f"A year, {FIRST_YEAR}–{LAST_YEAR}")]
RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID, description="A record id")]
AuditLimit = Annotated[int, Query(ge=1, le=1000, description="At most this many entries (1–1000)")]
PageLimit = Annotated[int, Query(ge=1, le=10_000, description="Features per page (1–10000)")]
Offset = Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Features to skip")]
