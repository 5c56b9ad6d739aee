"""Which accounts a document posts to, and the lines of its journal entry.

An invoice debits the member's receivable (the general account, e.g. ``411``, with an
auxiliary account per member) with its total, and credits per VAT rate revenue (``706``)
with the net and VAT collected (``44571``) with the VAT; lines outside the scope of VAT
(a fine passed through) credit their own account (``467``), never revenue. A credit note
posts the same lines on the other side. A line never carries a negative amount: a negative
one moves to the other side. Every entry balances (``sum(debit) == sum(credit)``) or is
refused here, before anything is stored.

Fiscal years follow a local calendar: fiscal year ``N`` ends in calendar year ``N``.

Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

RECEIVABLE, REVENUE, VAT, OUT_OF_SCOPE = "RECEIVABLE", "REVENUE", "VAT", "OUT_OF_SCOPE"
ROLES: Final = (RECEIVABLE, REVENUE, VAT, OUT_OF_SCOPE)
INVOICE, CREDIT_NOTE = "INVOICE", "CREDIT_NOTE"

#: French chart of accounts (PCG): an account number starts with three digits of its class.
ACCOUNT_NUMBER: Final = re.compile(r"[1-8][0-9]{2}[0-9A-Z]{0,17}", re.ASCII)
JOURNAL_CODE: Final = re.compile(r"[A-Z0-9]{1,20}", re.ASCII)
_ZERO: Final = Decimal(0)


class UnbalancedEntry(ValueError):
    """The lines of an entry do not balance: a document's totals disagree with its groups."""


class VatGroup(Protocol):
    """A document's lines of one VAT rate or exemption (``billing.charges.VatTotal``)."""

    @property
    def vat_rate(self) -> Decimal | None: ...
    @property
    def vat_exemption(self) -> str: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def net(self) -> Decimal: ...
    @property
    def vat(self) -> Decimal: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A general account: its number in the chart and its label (FEC CompteNum, CompteLib)."""

    number: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Journal:
    """A journal: its code and label (FEC JournalCode, JournalLib)."""

    code: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """The accounts and journals of one zone (one series prefix)."""

    receivable: Account
    #: The member's auxiliary account is this prefix and the member id (``411`` + 42).
    customer_prefix: str
    revenue: Account
    vat: Account
    out_of_scope: Account
    sales_journal: Journal
    credit_note_journal: Journal

    def account(self, role: str) -> Account:
        """Return the general account of a line role."""
        return {
            RECEIVABLE: self.receivable,
            REVENUE: self.revenue,
            VAT: self.vat,
            OUT_OF_SCOPE: self.out_of_scope,
        }[role]


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """The billed member as the receivable shows them: auxiliary account and billing name."""

    account: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryLine:
    """One line of a journal entry: an account, a side, an amount, the VAT group it books."""

    position: int
    role: str
    account: str
    account_label: str
    auxiliary_account: str
    auxiliary_label: str
    label: str
    debit: Decimal
    credit: Decimal
    vat_rate: Decimal | None
    vat_exemption: str

    @property
    def key(self) -> tuple[str, Decimal | None, str]:
        """The line's role and VAT group: what a reversing entry matches it by."""
        return (self.role, self.vat_rate, self.vat_exemption)


#: The labels of the default accounts (French chart of accounts, PCG).
DEFAULT_LABELS: Final = {
    RECEIVABLE: "Clients",
    REVENUE: "Prestations de services",
    VAT: "TVA collectée",
    OUT_OF_SCOPE: "Débours refacturés, hors champ de la TVA",
}


def default_chart(series_prefix: str, numbers: Mapping[str, str]) -> Chart:
    """Return a zone's chart when nothing overrides the default account ``numbers``.

    ``numbers`` maps each role, and ``CUSTOMER_PREFIX``, to an account number
    (``settings.BILLING["ACCOUNTS"]``). The journals are ``VE`` and ``AV`` + the prefix.
    """

    def account(role: str) -> Account:
        return Account(number=numbers[role], label=DEFAULT_LABELS[role])

    return Chart(
        receivable=account(RECEIVABLE),
        customer_prefix=numbers["CUSTOMER_PREFIX"],
        revenue=account(REVENUE),
        vat=account(VAT),
        out_of_scope=account(OUT_OF_SCOPE),
        sales_journal=Journal(code=f"VE{series_prefix}", label=f"Ventes {series_prefix}"),
        credit_note_journal=Journal(code=f"AV{series_prefix}", label=f"Avoirs {series_prefix}"),
    )


def customer_account(chart: Chart, member_id: int) -> str:
    """Return the auxiliary account of a member (FEC CompAuxNum)."""
    return f"{chart.customer_prefix}{member_id:07d}"


def entry_lines(
    *,
    document_kind: str,
    label: str,
    chart: Chart,
    customer: Customer,
    total: Decimal,
    groups: Sequence[VatGroup],
    accounts: Mapping[tuple[str, Decimal | None, str], Account] | None = None,
) -> tuple[EntryLine, ...]:
    """Return the balanced lines a document posts: the receivable first, then each VAT group.

    ``accounts`` overrides the chart by line key: a credit note reverses the accounts its
    invoice's entry used, whatever the chart says today.

    Raises:
        UnbalancedEntry: the groups do not add up to ``total``.
    """
    chosen = accounts or {}
    # Signed as debit minus credit on an invoice; a credit note posts the opposite.
    sign = 1 if document_kind == INVOICE else -1
    receivable = chosen.get((RECEIVABLE, None, ""), chart.receivable)
    drafts: list[tuple[str, Account, str, Decimal, Decimal | None, str]] = [
        (RECEIVABLE, receivable, label, total, None, "")
    ]
    for group in groups:
        rate, exemption = group.vat_rate, group.vat_exemption
        if rate is None:
            key = (OUT_OF_SCOPE, None, exemption)
            account = chosen.get(key, chart.out_of_scope)
            text = f"{label} hors champ TVA"
            drafts.append((OUT_OF_SCOPE, account, text, -group.net, None, exemption))
            continue
        percent = format_percent(rate)
        revenue = chosen.get((REVENUE, rate, exemption), chart.revenue)
        drafts.append((REVENUE, revenue, f"{label} HT {percent}", -group.net, rate, exemption))
        if group.vat:
            vat = chosen.get((VAT, rate, exemption), chart.vat)
            drafts.append((VAT, vat, f"{label} TVA {percent}", -group.vat, rate, exemption))
    lines = tuple(
        EntryLine(
            position=position,
            role=role,
            account=account.number,
            account_label=account.label,
            auxiliary_account=customer.account if role == RECEIVABLE else "",
            auxiliary_label=customer.name if role == RECEIVABLE else "",
            label=text,
            debit=max(sign * signed, _ZERO),
            credit=max(-sign * signed, _ZERO),
            vat_rate=rate,
            vat_exemption=exemption,
        )
        for position, (role, account, text, signed, rate, exemption) in enumerate(drafts, 1)
    )
    debit, credit = entry_totals(lines)
    if debit != credit:
        raise UnbalancedEntry(f"{label}: debit {debit} != credit {credit}")
    return lines


def amounts_by_key(
    lines: Sequence[EntryLine],
) -> dict[tuple[str, Decimal | None, str], tuple[Decimal, Decimal]]:
    """Return each line's debit and credit by its key: what an audit compares, accounts aside."""
    return {line.key: (line.debit, line.credit) for line in lines}


def expected_amounts(
    *, document_kind: str, total: Decimal, groups: Sequence[VatGroup]
) -> dict[tuple[str, Decimal | None, str], tuple[Decimal, Decimal]]:
    """Return the debit and credit a document's entry must carry on each line key.

    Raises:
        UnbalancedEntry: the groups do not add up to ``total``.
    """
    lines = entry_lines(
        document_kind=document_kind,
        label="",
        chart=_ANY_CHART,
        customer=Customer(account="", name=""),
        total=total,
        groups=groups,
    )
    return amounts_by_key(lines)


def entry_totals(lines: Sequence[EntryLine]) -> tuple[Decimal, Decimal]:
    """Return the sums of an entry's debits and credits."""
    return sum((line.debit for line in lines), _ZERO), sum((line.credit for line in lines), _ZERO)


def format_percent(rate: Decimal) -> str:
    """Format a VAT rate as the French write it: ``20 %``, ``5,5 %``."""
    percent = (rate * 100).normalize()
    text = f"{percent:f}".replace(".", ",")
    return f"{text} %"


def fiscal_year_of(day: dt.date, *, start_month: int) -> int:
    """Return the fiscal year a local date belongs to (named by the year it ends in)."""
    if start_month == 1 or day.month < start_month:
        return day.year
    return day.year + 1


def fiscal_year_bounds(year: int, *, start_month: int) -> tuple[dt.date, dt.date]:
    """Return the half-open local dates ``[first day, first day of the next)`` of a fiscal year.

    Raises:
        ValueError: ``start_month`` is not 1 to 12.
    """
    if not 1 <= start_month <= 12:
        raise ValueError(f"a fiscal year starts in month 1 to 12, not {start_month}")
    first = dt.date(year if start_month == 1 else year - 1, start_month, 1)
    return first, dt.date(first.year + 1, start_month, 1)


_ANY_ACCOUNT: Final = Account(number="000", label="")
_ANY_JOURNAL: Final = Journal(code="X", label="")
# Accounts do not change amounts: a chart to compute what an entry must carry, accounts aside.
_ANY_CHART: Final = Chart(
    receivable=_ANY_ACCOUNT,
    customer_prefix="",
    revenue=_ANY_ACCOUNT,
    vat=_ANY_ACCOUNT,
    out_of_scope=_ANY_ACCOUNT,
    sales_journal=_ANY_JOURNAL,
    credit_note_journal=_ANY_JOURNAL,
)
