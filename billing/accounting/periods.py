"""Closing periods: local days, months and fiscal years, and the instants that bound them.

A period is half-open between two local dates, ``[start_date, end_date)``, and covers the
instants from the first local midnight to the next in the zone's time zone: a day is 23,
24 or 25 hours long (Paris, 29 March and 25 October 2026), and a sale at
2026-12-31T23:30Z falls in the Paris day, month and year that begin on 1 January 2027.
A midnight the clocks skip (America/Sao_Paulo, 2018-11-04) is read as the instant of the
change, when the new day begins; zoneinfo's ``fold=0`` does exactly that.

Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from billing.accounting import entries

DAY, MONTH, YEAR = "DAY", "MONTH", "YEAR"
KINDS: Final = (DAY, MONTH, YEAR)


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """A closing period: its kind and its local dates, ``[start_date, end_date)``."""

    kind: str
    start_date: dt.date
    end_date: dt.date

    def instants(self, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
        """Return the period as UTC instants, ``[started_at, ended_at)``."""
        return local_midnight(self.start_date, time_zone), local_midnight(self.end_date, time_zone)

    def __str__(self) -> str:
        return f"{self.kind} {self.start_date.isoformat()}"


def local_midnight(day: dt.date, time_zone: str) -> dt.datetime:
    """Return the instant (UTC) a local date begins in ``time_zone``."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)


def local_date(instant: dt.datetime, time_zone: str) -> dt.date:
    """Return the local date of an instant in ``time_zone``."""
    return instant.astimezone(ZoneInfo(time_zone)).date()


def period_containing(kind: str, day: dt.date, *, fiscal_year_start_month: int) -> Period:
    """Return the period of ``kind`` that contains the local date ``day``.

    Raises:
        ValueError: an unknown kind.
    """
    if kind == DAY:
        return Period(kind=DAY, start_date=day, end_date=day + dt.timedelta(days=1))
    if kind == MONTH:
        first = day.replace(day=1)
        return Period(kind=MONTH, start_date=first, end_date=_next_month(first))
    if kind == YEAR:
        year = entries.fiscal_year_of(day, start_month=fiscal_year_start_month)
        start, end = entries.fiscal_year_bounds(year, start_month=fiscal_year_start_month)
        return Period(kind=YEAR, start_date=start, end_date=end)
    raise ValueError(f"unknown period kind {kind!r}")


def following(period: Period, *, fiscal_year_start_month: int) -> Period:
    """Return the period of the same kind that starts where ``period`` ends."""
    return period_containing(
        period.kind, period.end_date, fiscal_year_start_month=fiscal_year_start_month
    )


def _next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
