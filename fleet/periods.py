"""Billing periods of a monthly pass: anniversaries of its first day, in the zone's calendar.

Period ``k`` (from 0) runs from the first instant of local date ``anchor + k months`` to
the first instant of ``anchor + (k + 1) months``, half-open. Months are added with
``relativedelta`` to the original anchor, never to the previous period's end, so a pass
from 31 January renews on 28 February (29 in a leap year), then 31 March, 30 April, and
never drifts to the 28th. Boundaries are local midnights (the first instant of the day when
a clock change skips midnight), so a period is 28 to 31 local days long and 23, 24 or 25
hours longer or shorter in UTC across a DST change, as the member's calendar says.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from core.localtime import start_of_local_day


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """Billing period ``index`` of a pass: ``[starts_at, ends_at)``, and its local dates."""

    index: int
    starts_at: datetime
    ends_at: datetime
    first_date: date
    last_date: date


def anniversary(anchor: date, months: int) -> date:
    """Return ``anchor`` plus ``months`` months, clamped to the last day of a shorter month."""
    result: date = anchor + relativedelta(months=months)
    return result


@lru_cache(maxsize=4096)
def period(*, anchor: date, index: int, time_zone: str) -> Period:
    """Return billing period ``index`` (0 is the first) of a pass anchored on ``anchor``.

    Cached: a run meets the same few anchors (days of the month) again and again.

    Raises:
        ValueError: a negative index.
    """
    if index < 0:
        raise ValueError(f"no period {index}")
    first = anniversary(anchor, index)
    following = anniversary(anchor, index + 1)
    return Period(
        index=index,
        starts_at=start_of_local_day(first, time_zone),
        ends_at=start_of_local_day(following, time_zone),
        first_date=first,
        last_date=date.fromordinal(following.toordinal() - 1),
    )


def index_at(*, anchor: date, at: datetime, time_zone: str) -> int | None:
    """Return the index of the period containing the instant ``at``; None before the first."""
    if at < start_of_local_day(anchor, time_zone):
        return None
    local = at.astimezone(ZoneInfo(time_zone))
    # A first guess from the calendar, corrected by the boundaries themselves (local days
    # that start at a clock change, clamped month ends).
    guess = max(0, (local.year - anchor.year) * 12 + local.month - anchor.month)
    while guess > 0 and at < period(anchor=anchor, index=guess, time_zone=time_zone).starts_at:
        guess -= 1
    while at >= period(anchor=anchor, index=guess, time_zone=time_zone).ends_at:
        guess += 1
    return guess
