"""Close periods: daily, monthly and fiscal-year totals of each zone, chained by hash.

A scope is one seller's zone: its series prefix, time zone and currency (the documents of
``PAR-2026``, ``AV-PAR-2026``, ``PAR-2027``...). Each scope has one chain per kind of
period, from the period of its first document; each closing holds the period's count of
invoices and credit notes, net, VAT and total per VAT rate (credit notes negative), the
perpetual grand totals since the first document (signed, and in absolute value), and the
hash of the previous closing of its chain (``billing.canonical``'s form and hash).

A period closes once it has ended in the zone's calendar, by the application's clock and
by the database's, which dates documents. Documents dated before the end but not yet
committed are waited for: the series counters of the scope are locked for an instant, so
every issue holding one commits first and every later issue is dated after the end. A
second closing of the same period is refused by a unique constraint, so the command and the
periodic job may run at any time, twice, or at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from django.db import IntegrityError, OperationalError, connection
from django.db.models import Count, Min, Q, Sum
from sequences.models import Sequence

from billing import canonical, charges, money, numbering
from billing.accounting import entries, journal, periods
from billing.accounting.models import Closing, JournalEntry, JournalLine
from core import clock, transactions

logger = logging.getLogger(__name__)

CANONICAL_VERSION: Final = 1
# How long a closing waits for the issues in flight of its zone before trying next time.
LOCK_TIMEOUT_MS: Final = 10_000
_ZERO: Final = Decimal(0)
_FIELDS: Final = (
    "kind", "seller_vat_id", "series_prefix", "time_zone", "currency", "sequence",
    "start_date", "end_date", "started_at", "ended_at", "invoice_count", "credit_note_count",
    "net", "vat", "total", "vat_breakdown", "perpetual_total", "perpetual_absolute_total",
    "closed_at", "previous_hash",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """One seller's zone, as its journal entries name it."""

    seller_vat_id: str
    series_prefix: str
    time_zone: str
    currency: str

    def lookup(self, prefix: str = "") -> dict[str, str]:
        """Return the scope as ORM filters, on ``prefix`` (e.g. ``"entry__"``)."""
        return {
            f"{prefix}seller_vat_id": self.seller_vat_id,
            f"{prefix}series_prefix": self.series_prefix,
            f"{prefix}time_zone": self.time_zone,
            f"{prefix}currency": self.currency,
        }

    def __str__(self) -> str:
        return f"{self.series_prefix} ({self.time_zone}, {self.currency}, {self.seller_vat_id})"


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodTotals:
    """What a period's documents add up to; credit notes count negative."""

    invoice_count: int
    credit_note_count: int
    net: Decimal
    vat: Decimal
    total: Decimal
    #: Invoices plus credit notes, each counted positive.
    absolute_total: Decimal
    groups: tuple[charges.VatTotal, ...]


def scopes() -> list[Scope]:
    """Return every scope that has journal entries."""
    rows = (
        JournalEntry.objects.values_list("seller_vat_id", "series_prefix", "time_zone", "currency")
        .distinct()
        .order_by("series_prefix", "time_zone", "currency", "seller_vat_id")
    )
    return [
        Scope(seller_vat_id=seller, series_prefix=prefix, time_zone=zone, currency=currency)
        for seller, prefix, zone, currency in rows
    ]


def chain(scope: Scope, kind: str) -> Iterator[Closing]:
    """Yield the closings of a scope's chain of ``kind``, in order."""
    return Closing.objects.filter(**scope.lookup(), kind=kind).order_by("sequence").iterator()


def close_due_periods(*, now: datetime) -> list[Closing]:
    """Close every period that has ended by ``now`` (and by the database clock); idempotent.

    The entry point of the periodic job and of ``manage.py close_period``. Returns the
    closings made by this call; periods already closed, by this or another process, are
    skipped, and a zone whose counters stay locked is left for the next run.

    Raises:
        RuntimeError: inside a transaction (each closing is a use case of its own).
    """
    made: list[Closing] = []
    for scope in scopes():
        made += close_scope(scope, now=now)
    return made


def close_scope(scope: Scope, *, now: datetime) -> list[Closing]:
    """Close the ended periods of one scope, each kind's chain in period order."""
    pending = {kind: _next_period(scope, kind) for kind in periods.KINDS}
    if not any(_ended(scope, period, now) for period in pending.values()):
        return []
    database_now = wait_for_issues_in_flight(scope)
    if database_now is None:
        logger.warning("closing %s postponed: its series counters stayed locked", scope)
        return []
    until = min(now, database_now)
    made = []
    for period in pending.values():
        while _ended(scope, period, until):
            closing = _close(scope, period)
            if closing is not None:
                made.append(closing)
            period = periods.following(period, fiscal_year_start_month=_start_month())
    return made


def wait_for_issues_in_flight(scope: Scope) -> datetime | None:
    """Wait until every issue of the scope that holds a series counter has committed.

    Returns the database clock read once they have: any document issued later is dated
    after it. ``None`` when the counters stayed locked longer than ``LOCK_TIMEOUT_MS``.

    Raises:
        OperationalError: the database failed otherwise (after the transaction's retries).
    """
    credit_prefix = numbering.credit_note_series(scope.series_prefix)
    names = (
        Q(name=scope.series_prefix)
        | Q(name__startswith=f"{scope.series_prefix}-")
        | Q(name=credit_prefix)
        | Q(name__startswith=f"{credit_prefix}-")
    )

    def barrier() -> datetime:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [f"{LOCK_TIMEOUT_MS}"]
                )
        # In name order, like any other closing: two closings never wait for each other.
        list(Sequence.objects.select_for_update().filter(names).order_by("name").values("name"))
        return clock.read_database_clock()

    try:
        return transactions.run_in_transaction(barrier)
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
            return None
        raise


def period_totals(scope: Scope, period: periods.Period) -> PeriodTotals:
    """Add up a period's journal entries: counts, and net, VAT and total per VAT group."""
    dated = {"entry_date__gte": period.start_date, "entry_date__lt": period.end_date}
    counts = dict(
        JournalEntry.objects.filter(**scope.lookup(), **dated)
        .values_list("document_kind")
        .annotate(count=Count("id"))
        .order_by()
    )
    sums = (
        JournalLine.objects.filter(
            **scope.lookup("entry__"), **{f"entry__{key}": value for key, value in dated.items()}
        )
        .values_list("role", "vat_rate", "vat_exemption")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by()
    )
    currency = scope.currency
    nets: dict[tuple[Decimal | None, str], Decimal] = {}
    vats: dict[tuple[Decimal | None, str], Decimal] = {}
    total = absolute = _ZERO
    for role, rate, exemption, debit, credit in sums:
        debit = money.round_money(debit or _ZERO, currency)
        credit = money.round_money(credit or _ZERO, currency)
        if role == entries.RECEIVABLE:
            total += debit - credit
            absolute += debit + credit
            continue
        book = vats if role == entries.VAT else nets
        key = (rate, exemption)
        book[key] = book.get(key, _ZERO) + credit - debit
    groups = tuple(
        charges.VatTotal(
            vat_rate=rate,
            vat_exemption=exemption,
            total=nets.get((rate, exemption), _ZERO) + vats.get((rate, exemption), _ZERO),
            net=nets.get((rate, exemption), _ZERO),
            vat=vats.get((rate, exemption), _ZERO),
        )
        for rate, exemption in sorted(set(nets) | set(vats), key=group_order)
    )
    return PeriodTotals(
        invoice_count=counts.get(entries.INVOICE, 0),
        credit_note_count=counts.get(entries.CREDIT_NOTE, 0),
        net=sum((group.net for group in groups), _ZERO),
        vat=sum((group.vat for group in groups), _ZERO),
        total=total,
        absolute_total=absolute,
        groups=groups,
    )


def group_order(key: tuple[Decimal | None, str]) -> tuple[int, Decimal, str]:
    """Sort VAT groups as documents do: highest rate first, outside the scope of VAT last."""
    rate, exemption = key
    return (1, _ZERO, exemption) if rate is None else (0, -rate, exemption)


def stored_groups(groups: tuple[charges.VatTotal, ...]) -> list[dict[str, Any]]:
    """Return VAT groups as a closing stores and hashes them (canonical decimal strings)."""
    return [
        {
            "vat_rate": canonical.canonical_value(group.vat_rate),
            "vat_exemption": group.vat_exemption,
            "net": canonical.canonical_value(group.net),
            "vat": canonical.canonical_value(group.vat),
            "total": canonical.canonical_value(group.total),
        }
        for group in groups
    ]


def closing_content(closing: Closing) -> dict[str, Any]:
    """Return the hashed content of a closing (``previous_hash`` in, ``hash`` out)."""
    content: dict[str, Any] = {"type": "closing", "version": closing.canonical_version}
    content.update({name: getattr(closing, name) for name in _FIELDS})
    return content


def _close(scope: Scope, period: periods.Period) -> Closing | None:
    """Store the closing of ``period`` after the last of its chain; ``None`` if already closed."""

    def work() -> Closing:
        previous = (
            Closing.objects.filter(**scope.lookup(), kind=period.kind).order_by("-sequence").first()
        )
        totals = period_totals(scope, period)
        started_at, ended_at = period.instants(scope.time_zone)
        closing = Closing(
            kind=period.kind,
            **scope.lookup(),
            sequence=1 if previous is None else previous.sequence + 1,
            start_date=period.start_date,
            end_date=period.end_date,
            started_at=started_at,
            ended_at=ended_at,
            invoice_count=totals.invoice_count,
            credit_note_count=totals.credit_note_count,
            net=totals.net,
            vat=totals.vat,
            total=totals.total,
            vat_breakdown=stored_groups(totals.groups),
            perpetual_total=(_ZERO if previous is None else previous.perpetual_total)
            + totals.total,
            perpetual_absolute_total=(
                _ZERO if previous is None else previous.perpetual_absolute_total
            )
            + totals.absolute_total,
            closed_at=clock.read_database_clock(),
            canonical_version=CANONICAL_VERSION,
            previous_hash=canonical.GENESIS_HASH if previous is None else previous.hash,
        )
        closing.hash = canonical.document_hash(closing_content(closing))
        closing.save()
        return closing

    try:
        return transactions.run_in_transaction(work)
    except IntegrityError:
        # Another process closed this period (or this sequence) first: nothing to do.
        if Closing.objects.filter(
            **scope.lookup(), kind=period.kind, start_date=period.start_date
        ).exists():
            return None
        raise


def _next_period(scope: Scope, kind: str) -> periods.Period | None:
    last = Closing.objects.filter(**scope.lookup(), kind=kind).order_by("-sequence").first()
    if last is not None:
        return periods.following(
            periods.Period(kind=kind, start_date=last.start_date, end_date=last.end_date),
            fiscal_year_start_month=_start_month(),
        )
    first = JournalEntry.objects.filter(**scope.lookup()).aggregate(first=Min("entry_date"))
    if first["first"] is None:
        return None
    return periods.period_containing(kind, first["first"], fiscal_year_start_month=_start_month())


def _ended(scope: Scope, period: periods.Period | None, until: datetime) -> bool:
    return period is not None and period.instants(scope.time_zone)[1] <= until


def _start_month() -> int:
    return journal.fiscal_year_start_month()
