"""Check the accounts as an auditor would: the journals, each entry against its document.

Journals: numbers continuous from 1 per journal and fiscal year, no duplicate, dates never
going back as numbers go up, each entry in the fiscal year of its date, debits equal to
credits per journal and year and per entry. Documents: every invoice and credit note posted
exactly once, and each entry carrying on each line what its document's totals say (the
accounts aside, which the chart of the day chose). The closings' checks are in
``billing.accounting.closing_checks``; ``audit_accounts`` runs both.

Every problem is a ``Finding`` naming its check and what it concerns; the report is clean
when there is none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Final

from django.db.models import Count, DecimalField, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce

from billing import money, queries
from billing.accounting import entries, journal, periods
from billing.accounting.models import JournalEntry
from billing.models import CreditNote, Invoice

CHUNK: Final = 2000
MAX_LISTED: Final = 1000  # findings listed per check; their counts stay exact
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: the check that found it, what it concerns, and how."""

    check: str
    subject: str
    detail: str


@dataclass(slots=True)
class Findings:
    """Findings listed up to ``MAX_LISTED`` per check, counted in full."""

    listed: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, check: str, subject: str, detail: str) -> None:
        """Record a finding."""
        self.counts[check] += 1
        if self.counts[check] <= MAX_LISTED:
            self.listed.append(Finding(check, subject, detail))


@dataclass(slots=True)
class JournalReport:
    """One journal's fiscal year: its numbers and its totals."""

    journal_code: str
    fiscal_year: int
    currency: str = ""
    first: int | None = None
    last: int | None = None
    count: int = 0
    gap_count: int = 0
    duplicate_count: int = 0
    date_order_violations: int = 0
    debit: Decimal = _ZERO
    credit: Decimal = _ZERO

    @property
    def clean(self) -> bool:
        return (
            self.first == 1
            and not self.gap_count
            and not self.duplicate_count
            and not self.date_order_violations
            and self.debit == self.credit
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(debit=self.amount(self.debit), credit=self.amount(self.credit))
        data["clean"] = self.clean
        return data

    def amount(self, value: Decimal) -> str:
        """Format a total with the journal's currency's decimals."""
        return money.format_amount(value, self.currency) if self.currency else str(value)


def check_journals(findings: Findings) -> list[JournalReport]:
    """Check each journal's numbering, dates, fiscal years and balance."""
    reports: dict[tuple[str, int], JournalReport] = {}
    for code, year, currency, debit, credit in (
        JournalEntry.objects.values_list("journal_code", "fiscal_year")
        .annotate(currency=Max("currency"), debit=Sum("lines__debit"), credit=Sum("lines__credit"))
        .order_by("journal_code", "fiscal_year")
    ):
        report = reports[(code, year)] = JournalReport(code, year, currency)
        report.debit, report.credit = debit or _ZERO, credit or _ZERO
        if report.debit != report.credit:
            findings.add(
                "journal_unbalanced", f"{code} {year}", f"debit {debit} != credit {credit}"
            )
    start_month = journal.fiscal_year_start_month()
    rows = (
        JournalEntry.objects.order_by("journal_code", "fiscal_year", "number", "id")
        .values_list("journal_code", "fiscal_year", "number", "entry_date")
        .iterator(chunk_size=CHUNK)
    )
    previous: tuple[str, int, int, Any] | None = None
    for code, year, number, day in rows:
        report = reports[(code, year)]
        report.count += 1
        subject = f"{code} {year} #{number}"
        if entries.fiscal_year_of(day, start_month=start_month) != year:
            findings.add("entry_fiscal_year", subject, f"dated {day}, outside fiscal year {year}")
        same_journal = previous is not None and previous[:2] == (code, year)
        expected = previous[2] + 1 if previous is not None and same_journal else 1
        if report.first is None:
            report.first = number
        if same_journal and previous is not None and number == previous[2]:
            report.duplicate_count += 1
            findings.add("journal_duplicate", subject, "the number is used twice")
        elif number != expected:
            report.gap_count += number - expected
            findings.add("journal_gap", subject, f"missing {expected} to {number - 1}")
        if same_journal and previous is not None and day < previous[3]:
            report.date_order_violations += 1
            findings.add("journal_date_order", subject, f"dated {day}, before #{previous[2]}")
        report.last = number
        previous = (code, year, number, day)
    return list(reports.values())


def check_entries_balance(findings: Findings) -> None:
    """Find entries whose lines do not balance, or differ from the entry's amount and count."""
    zero = Value(_ZERO, output_field=DecimalField())
    unbalanced = (
        JournalEntry.objects.annotate(
            debit=Coalesce(Sum("lines__debit"), zero),
            credit=Coalesce(Sum("lines__credit"), zero),
            lines_found=Count("lines"),
        )
        .filter(~Q(debit=F("credit")) | ~Q(debit=F("amount")) | ~Q(lines_found=F("line_count")))
        .order_by("journal_code", "fiscal_year", "number")
        .values_list(
            "journal_code", "fiscal_year", "number", "debit", "credit", "amount", "lines_found"
        )
    )
    for code, year, number, debit, credit, amount, found in unbalanced.iterator(CHUNK):
        findings.add(
            "entry_unbalanced",
            f"{code} {year} #{number}",
            f"debit {debit}, credit {credit}, amount {amount}, {found} lines",
        )


def check_documents_posted(findings: Findings) -> None:
    """Find documents never posted, or posted more than once."""
    for model, kind in ((Invoice, "invoice"), (CreditNote, "credit_note")):
        for number in (
            model.objects.filter(journal_entry__isnull=True)
            .order_by("issued_at", "id")
            .values_list("number", flat=True)
            .iterator(CHUNK)
        ):
            findings.add("document_not_posted", number, f"the {kind} has no journal entry")
        twice = (
            JournalEntry.objects.filter(**{f"{kind}__isnull": False})
            .values_list(f"{kind}__number")
            .annotate(count=Count("id"))
            .filter(count__gt=1)
            .order_by()
        )
        for number, count in twice:
            findings.add("document_posted_twice", number, f"{count} journal entries")


def check_entries_match_documents(findings: Findings) -> None:
    """Compare each entry with its document: date, number, and every line's amounts."""
    invoices = (
        Invoice.objects.filter(journal_entry__isnull=False)
        .select_related("journal_entry")
        .prefetch_related("lines", "journal_entry__lines")
        .order_by("id")
    )
    for invoice in invoices.iterator(CHUNK):
        _compare(findings, invoice, invoice.journal_entry, entries.INVOICE)
    notes = (
        CreditNote.objects.filter(journal_entry__isnull=False)
        .select_related("journal_entry", "invoice")
        .prefetch_related("journal_entry__lines")
        .order_by("id")
    )
    for note in notes.iterator(CHUNK):
        _compare(findings, note, note.journal_entry, entries.CREDIT_NOTE)


def _compare(
    findings: Findings, document: Invoice | CreditNote, entry: JournalEntry, kind: str
) -> None:
    subject = f"{entry} ({document.number})"
    time_zone = document.time_zone if isinstance(document, Invoice) else document.invoice.time_zone
    stated = {
        "document_kind": (entry.document_kind, kind),
        "document_number": (entry.document_number, document.number),
        "issued_at": (entry.issued_at, document.issued_at),
        "entry_date": (entry.entry_date, periods.local_date(document.issued_at, time_zone)),
        "time_zone": (entry.time_zone, time_zone),
        "currency": (entry.currency, document.currency),
    }
    differs = [f"{name} {got} != {want}" for name, (got, want) in stated.items() if got != want]
    try:
        expected = entries.expected_amounts(
            document_kind=kind, total=document.total, groups=queries.vat_totals_of(document)
        )
    except entries.UnbalancedEntry as exc:
        differs.append(f"the document's own totals disagree ({exc})")
        expected = {}
    found = {
        (line.role, line.vat_rate, line.vat_exemption): (line.debit, line.credit)
        for line in _lines(entry)
    }
    if expected and found != expected:
        differs.append(f"lines {_amounts(found)} != {_amounts(expected)}")
    if differs:
        findings.add("entry_differs_from_document", subject, "; ".join(differs))


def _lines(entry: JournalEntry) -> Iterable[Any]:
    return sorted(entry.lines.all(), key=lambda line: line.position)


def _amounts(amounts: dict[tuple[str, Decimal | None, str], tuple[Decimal, Decimal]]) -> str:
    return ", ".join(
        f"{role}/{rate if rate is not None else exemption}: {debit}-{credit}"
        for (role, rate, exemption), (debit, credit) in sorted(amounts.items(), key=str)
    )
