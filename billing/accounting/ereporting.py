"""E-reporting aggregates: B2C sales per local day and VAT rate (CGI art. 242 nonies M).

For each local date (in each document's zone), currency and VAT rate: the total before VAT,
the VAT, and the number of transactions (documents). Credit notes count negative in the
amounts and as transactions of their day. Lines outside the scope of VAT (a fine passed
through) are not sales and are left out. Business customers' invoices are left out too:
they are e-invoiced instead, and reported through their e-invoices.

Read from the journal, which holds every document's net and VAT per rate as issued.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.db.models import Count, Q, Sum

from billing import money
from billing.accounting import entries
from billing.accounting.models import JournalLine
from core.errors import DomainError

COLUMNS: Final = ("date", "currency", "vat_rate", "net", "vat", "transactions")
MAX_DAYS: Final = 366


class InvalidReportingPeriod(DomainError):
    """The period is empty, reversed or longer than a year."""

    code = "invalid_reporting_period"


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyAggregate:
    """One local day's B2C sales at one VAT rate."""

    date: dt.date
    currency: str
    vat_rate: Decimal
    net: Decimal
    vat: Decimal
    transactions: int

    def as_dict(self) -> dict[str, Any]:
        """Return the aggregate as the API shows it: amounts and rates as strings."""
        return {
            "date": self.date.isoformat(),
            "currency": self.currency,
            "vat_rate": money.format_vat_rate(self.vat_rate),
            "net": money.format_amount(self.net, self.currency),
            "vat": money.format_amount(self.vat, self.currency),
            "transactions": self.transactions,
        }


def business_customer(path: str) -> Q:
    """Select the entries (through ``path`` to the invoice) of business customers' invoices.

    A business customer is a member with a company name and a SIREN; its invoice snapshots
    the SIREN (``buyer_siren``), and it goes to the tax administration as an e-invoice, not
    in the B2C aggregates.
    """
    # Positive (a SIREN is there), so that excluding it keeps entries without that document.
    return Q(**{f"{path}buyer_siren__gt": ""})


def daily_aggregates(*, date_from: dt.date, date_to: dt.date) -> list[DailyAggregate]:
    """Return the B2C aggregates of the local dates ``[date_from, date_to)``, by date and rate.

    Raises:
        InvalidReportingPeriod: ``date_to`` is not after ``date_from``, or the period is
            longer than ``MAX_DAYS``.
    """
    if not date_from < date_to:
        raise InvalidReportingPeriod(
            "date_to must be after date_from (the period is [from, to)).", field="date_to"
        )
    if (date_to - date_from).days > MAX_DAYS:
        raise InvalidReportingPeriod(f"A report covers {MAX_DAYS} days at most.", field="date_to")
    rows = (
        JournalLine.objects.filter(
            entry__entry_date__gte=date_from,
            entry__entry_date__lt=date_to,
            role__in=(entries.REVENUE, entries.VAT),
        )
        .exclude(business_customer("entry__invoice__"))
        .exclude(business_customer("entry__credit_note__invoice__"))
        .values_list("entry__entry_date", "entry__currency", "vat_rate")
        .annotate(
            revenue_credit=Sum("credit", filter=Q(role=entries.REVENUE)),
            revenue_debit=Sum("debit", filter=Q(role=entries.REVENUE)),
            vat_credit=Sum("credit", filter=Q(role=entries.VAT)),
            vat_debit=Sum("debit", filter=Q(role=entries.VAT)),
            transactions=Count("entry", distinct=True),
        )
        .order_by("entry__entry_date", "entry__currency", "-vat_rate")
    )
    return [_aggregate(*row) for row in rows]


def _aggregate(
    day: dt.date,
    currency: str,
    rate: Decimal,
    revenue_credit: Decimal | None,
    revenue_debit: Decimal | None,
    vat_credit: Decimal | None,
    vat_debit: Decimal | None,
    transactions: int,
) -> DailyAggregate:
    zero = Decimal(0)
    return DailyAggregate(
        date=day,
        currency=currency,
        vat_rate=rate,
        net=money.round_money((revenue_credit or zero) - (revenue_debit or zero), currency),
        vat=money.round_money((vat_credit or zero) - (vat_debit or zero), currency),
        transactions=transactions,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(aggregates: list[DailyAggregate]) -> Iterator[str]:
    """Yield the aggregates as CSV lines, header first (the columns of the JSON)."""
    writer = csv.DictWriter(_Echo(), fieldnames=COLUMNS)
    yield writer.writeheader()
    for aggregate in aggregates:
        yield writer.writerow(aggregate.as_dict())
