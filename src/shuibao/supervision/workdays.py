"""Working days (工作日) by the State Council's holiday notices: weekends and statutory holidays off, the
make-up working days (调休上班) on.

The table (``data/holidays.csv``: date, kind off|work, name, source) covers whole years; a date in a year it
does not cover is an error (:class:`CalendarError`), never silently "weekends only" — a time limit counted
across an unpublished year would be wrong without anyone noticing.  Add the year's rows when the 国务院办公厅
notice is out (usually November of the year before).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

from shuibao.errors import N_, InputError, ReferenceDataError


class CalendarError(InputError):
    """A date outside the years the holiday table covers."""


@dataclass(frozen=True)
class HolidayTable:
    off: frozenset[date]
    work: frozenset[date]
    years: frozenset[int]
    source: Path

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (CalendarError outside the table's years)."""
        if day.year not in self.years:
            raise CalendarError(N_("{day}: the holiday table covers {years} only; add the State Council's {year} "
                                   "holiday notice to {path}", day=day, years=", ".join(map(str, sorted(self.years))),
                                   year=day.year, path=self.source.name))
        if day in self.work:
            return True
        return day.weekday() < 5 and day not in self.off

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end ≤ start): the day of intake is
        not counted, the limit runs from the next day (行政许可法: 期限以工作日计算)."""
        n, day = 0, start + timedelta(days=1)
        while day <= end:
            n += self.is_working_day(day)
            day += timedelta(days=1)
        return n

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself for 0)."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            days -= self.is_working_day(day)
        return day


@lru_cache(maxsize=8)
def load_holidays(path: Path | str | None = None) -> HolidayTable:
    """The holiday table (default the shipped ``data/holidays.csv``); ReferenceDataError naming the row."""
    p = Path(str(resources.files("shuibao.supervision") / "data" / "holidays.csv")) if path is None else Path(path)
    off: set[date] = set()
    work: set[date] = set()
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ReferenceDataError(N_("{p}: cannot be read ({exc})", p=p, exc=exc)) from exc
    for i, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            day = date.fromisoformat(row["date"])
        except (KeyError, TypeError, ValueError):
            raise ReferenceDataError(N_("{p}: row {row}: date {value!r} is not YYYY-MM-DD", p=p, row=i,
                                        value=row.get("date"))) from None
        kind = row.get("kind")
        if kind not in ("off", "work") or not (row.get("source") or "").strip():
            raise ReferenceDataError(N_("{p}: row {row}: kind must be off or work and source is required", p=p,
                                        row=i))
        (off if kind == "off" else work).add(day)
    if off & work:
        raise ReferenceDataError(N_("{p}: {days} both off and working", p=p, days=", ".join(map(str, sorted(off & work)))))
    return HolidayTable(frozenset(off), frozenset(work), frozenset(d.year for d in off | work), p)
