"""Check every series as an auditor would: continuous, unique, in date order, unaltered.

Shared by ``GET /api/audit/sequences/`` and ``manage.py audit_sequences``. Documents are
read in number order, in chunks, and each hash is recomputed from the stored content.

The accounts are audited beside the series (``audit_accounts``: the journals, every entry
against its document, the closing chains and their totals recomputed from the documents),
for ``GET /api/audit/accounts/`` and the same command; the series report keeps its shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from billing import canonical
from billing.accounting import checks, closing_checks
from billing.models import CreditNote, Invoice
from core.errors import NotFoundError

CHUNK = 2000
MAX_LISTED = 1000  # per list in a report; the counts stay exact


class UnknownSeries(NotFoundError):
    """No invoice or credit note was ever issued in the series asked for.

    Reporting such a series as clean would hide a typo in a monitoring job forever.
    """

    code = "unknown_series"


@dataclass(slots=True)
class SeriesReport:
    series: str
    kind: str
    first: int | None = None
    last: int | None = None
    count: int = 0
    gaps: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    date_order_violations: list[str] = field(default_factory=list)
    hash_chain_ok: bool = True
    first_broken_link: str | None = None
    gap_count: int = 0

    @property
    def clean(self) -> bool:
        return (
            not self.gap_count
            and not self.duplicates
            and not self.date_order_violations
            and self.hash_chain_ok
            and self.first == 1
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clean"] = self.clean
        return data


@dataclass(frozen=True, slots=True)
class _Document:
    number: str
    sequence: int
    issued_at: datetime
    previous_hash: str
    stored_hash: str
    recomputed_hash: str


def audit_sequences(*, series: str | None = None) -> list[SeriesReport]:
    """Return one report per invoice and credit-note series (or for one named series).

    Raises:
        UnknownSeries: ``series`` is given and no document was ever issued in it.
    """
    unknown = UnknownSeries(
        f"No invoice or credit note was ever issued in series {series!r}.", series=series
    )
    if series is not None and "\x00" in series:
        raise unknown  # PostgreSQL cannot even compare text holding a NUL
    reports: list[SeriesReport] = []
    for model, kind in ((Invoice, "invoice"), (CreditNote, "credit_note")):
        names = model.objects.values_list("series", flat=True).distinct().order_by("series")
        if series is not None:
            names = names.filter(series=series)
        for name in names:
            reports.append(_check(name, kind, _documents(model, name)))
    if series is not None and not reports:
        raise unknown
    return reports


def _documents(model: type[Invoice] | type[CreditNote], series: str) -> Iterator[_Document]:
    if model is Invoice:
        rows = (
            Invoice.objects.filter(series=series)
            .order_by("sequence", "id")
            .prefetch_related("lines")
            .iterator(chunk_size=CHUNK)
        )
        for invoice in rows:
            content = canonical.invoice_content(invoice, invoice.lines.all())
            yield _document(invoice, canonical.document_hash(content))
    else:
        notes = (
            CreditNote.objects.filter(series=series)
            .order_by("sequence", "id")
            .select_related("invoice")
            .iterator(chunk_size=CHUNK)
        )
        for note in notes:
            content = canonical.credit_note_content(note, note.invoice.number)
            yield _document(note, canonical.document_hash(content))


def _document(row: Invoice | CreditNote, recomputed: str) -> _Document:
    return _Document(
        number=row.number,
        sequence=row.sequence,
        issued_at=row.issued_at,
        previous_hash=row.previous_hash,
        stored_hash=row.hash,
        recomputed_hash=recomputed,
    )


def _check(series: str, kind: str, documents: Iterable[_Document]) -> SeriesReport:
    report = SeriesReport(series=series, kind=kind)
    previous: _Document | None = None
    for doc in documents:
        report.count += 1
        if report.first is None:
            report.first = doc.sequence
            _note_gap(report, 1, doc.sequence)
        if previous is not None:
            if doc.sequence == previous.sequence:
                if not report.duplicates or report.duplicates[-1] != doc.sequence:
                    _listed(report.duplicates, doc.sequence)
            else:
                _note_gap(report, previous.sequence + 1, doc.sequence)
            if doc.issued_at < previous.issued_at:
                _listed(report.date_order_violations, doc.number)
        expected_previous = canonical.GENESIS_HASH if previous is None else previous.stored_hash
        broken = doc.recomputed_hash != doc.stored_hash or doc.previous_hash != expected_previous
        if broken and report.hash_chain_ok:
            report.hash_chain_ok = False
            report.first_broken_link = doc.number
        report.last = doc.sequence
        previous = doc
    return report


def _note_gap(report: SeriesReport, start: int, stop: int) -> None:
    report.gap_count += max(0, stop - start)
    for missing in range(start, min(stop, start + MAX_LISTED)):
        _listed(report.gaps, missing)


def _listed(items: list[Any], value: Any) -> None:
    if len(items) < MAX_LISTED:
        items.append(value)


@dataclass(slots=True)
class AccountsReport:
    """The journals, the closing chains, and every finding about them."""

    journals: list[checks.JournalReport]
    closings: list[closing_checks.ChainReport]
    findings: list[checks.Finding]
    finding_counts: dict[str, int]

    @property
    def clean(self) -> bool:
        return not self.finding_counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "journals": [report.as_dict() for report in self.journals],
            "closings": [report.as_dict() for report in self.closings],
            "finding_counts": self.finding_counts,
            "findings": [asdict(finding) for finding in self.findings],
        }


def audit_accounts() -> AccountsReport:
    """Check the journals, every entry against its document, and every closing chain."""
    findings = checks.Findings()
    journals = checks.check_journals(findings)
    checks.check_entries_balance(findings)
    checks.check_documents_posted(findings)
    checks.check_entries_match_documents(findings)
    chains = closing_checks.check_closings(findings)
    return AccountsReport(
        journals=journals,
        closings=chains,
        findings=findings.listed,
        finding_counts=dict(sorted(findings.counts.items())),
    )
