"""Local-calendar periods of issued documents: each document is dated in its own zone.

Finance asks for "January" or "last month" as the documents say it: an invoice issued at
00:30 on 1 February in Paris (23:30 UTC on 31 January) is a February invoice. A period is
half-open local dates ``[from_date, to_date)``; for each time zone among the documents it
becomes the instants ``[first instant of from_date, first instant of to_date)`` there, 23-
and 25-hour days and days without a midnight included. A quick period ("last month") is
read from now in each zone's own calendar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

from dateutil.relativedelta import relativedelta
from django.db.models import Q

from billing.models import Invoice
from core import localtime
from core.errors import DomainError

Dates = tuple[date | None, date | None]


def _month(today: date) -> date:
    return today.replace(day=1)


def _year(today: date) -> date:
    return today.replace(month=1, day=1)


#: Quick periods: their label, and their dates from a zone's local date today.
QUICK: Final[Mapping[str, tuple[str, Callable[[date], tuple[date, date]]]]] = {
    "today": ("Today", lambda today: (today, today + timedelta(days=1))),
    "this_month": ("This month", lambda t: (_month(t), _month(t) + relativedelta(months=1))),
    "last_month": ("Last month", lambda t: (_month(t) - relativedelta(months=1), _month(t))),
    "this_year": ("This year", lambda t: (_year(t), _year(t) + relativedelta(years=1))),
    "last_year": ("Last year", lambda t: (_year(t) - relativedelta(years=1), _year(t))),
}
#: The query parameters of a period (those of the API's export, as local dates here).
PARAMETERS: Final = ("period", "issued_from", "issued_to")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class InvalidPeriod(DomainError):
    """A period that is not a quick period, a malformed date, or dates out of order."""

    code = "invalid_period"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalPeriod:
    """Local dates ``[from_date, to_date)`` (either may be open), or a quick period at ``now``."""

    from_date: date | None = None
    to_date: date | None = None
    quick: str | None = None
    now: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Whether the period keeps every document (no bound, no quick period)."""
        return self.quick is None and self.from_date is None and self.to_date is None

    def dates_in(self, time_zone: str) -> Dates:
        """Return the local dates the period covers in ``time_zone``."""
        if self.quick is None or self.now is None:
            return self.from_date, self.to_date
        today = self.now.astimezone(_zone(time_zone)).date()
        return QUICK[self.quick][1](today)

    def covering(
        self, time_zones: Iterable[str], *, at: str = "issued_at", zone_at: str = "time_zone"
    ) -> Q:
        """Return the condition "issued in the period, in its own zone's dates"."""
        if self.is_open:
            return Q()
        covered = Q(pk__in=[])
        for time_zone in time_zones:
            start, end = self.dates_in(time_zone)
            part = Q(**{zone_at: time_zone})
            if start is not None:
                part &= Q(**{f"{at}__gte": first_instant(start, time_zone)})
            if end is not None:
                part &= Q(**{f"{at}__lt": first_instant(end, time_zone)})
            covered |= part
        return covered

    def common_dates(self, time_zones: Iterable[str]) -> Dates | None:
        """Return the dates the period covers in every one of ``time_zones``, if they agree."""
        found = {self.dates_in(time_zone) for time_zone in time_zones}
        if not found:
            return self.dates_in("UTC")
        return found.pop() if len(found) == 1 else None


def parse(query: Mapping[str, str], *, now: datetime) -> LocalPeriod:
    """Read a period from query parameters: ``period``, or ``issued_from`` / ``issued_to``.

    Raises:
        InvalidPeriod: an unknown quick period, a date not in ISO form (2026-01-31), both a
            quick period and dates, or ``issued_to`` not after ``issued_from``.
    """
    quick = query.get("period") or None
    from_date, to_date = _date(query, "issued_from"), _date(query, "issued_to")
    if quick is not None:
        if quick not in QUICK:
            raise InvalidPeriod(f"Unknown period {quick!r}.", field="period")
        if from_date is not None or to_date is not None:
            raise InvalidPeriod("Give a period or dates, not both.", field="period")
        return LocalPeriod(quick=quick, now=now)
    if from_date is not None and to_date is not None and to_date <= from_date:
        raise InvalidPeriod("issued_to must be after issued_from.", field="issued_to")
    return LocalPeriod(from_date=from_date, to_date=to_date)


def document_time_zones() -> list[str]:
    """Return the time zones of the issued invoices (credit notes are in their invoice's)."""
    zones = Invoice.objects.order_by().values_list("time_zone", flat=True).distinct()
    return sorted(zones)


def first_instant(day: date, time_zone: str) -> datetime:
    """Return the first instant of a local date in ``time_zone``, in UTC.

    Midnight, or the end of the clock change when midnight was skipped (zoneinfo reads a
    skipped wall time with the offset before the change, which lands on the change itself).
    """
    return datetime.combine(day, time(0), tzinfo=_zone(time_zone)).astimezone(UTC)


def _zone(time_zone: str) -> tzinfo:
    try:
        return localtime.load_time_zone(time_zone)
    except localtime.UnknownTimeZone:
        return UTC  # never hide a document: an unreadable zone is read as UTC


def _date(query: Mapping[str, str], name: str) -> date | None:
    raw = query.get(name) or None
    if raw is None:
        return None
    try:
        if _ISO_DATE.fullmatch(raw) is None:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidPeriod(f"{name} is a date such as 2026-01-31.", field=name) from None
