"""Check the closings: each chain continuous and unaltered, each total recomputed from documents.

A chain (one per scope and kind of period) runs 1, 2, 3... over consecutive periods, each
closing's hash recomputes from its content and names the previous closing's hash. Then every
closing's counts, net, VAT and total per rate, and its perpetual grand totals, are computed
again from the invoices and credit notes themselves (dated by their own ``issued_at`` in the
zone's calendar, amounts from their own VAT totals), never from the journal the closing was
made from. A document dated inside a closed period that the closing did not count shows here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from billing import canonical, charges, queries
from billing.accounting import closings, journal, periods
from billing.accounting.checks import CHUNK, Findings
from billing.accounting.models import SCOPE, Closing
from billing.models import CreditNote, Invoice

_ZERO: Final = Decimal(0)


@dataclass(slots=True)
class ChainReport:
    """One chain of closings: its length, its first broken link, whether its totals hold."""

    seller_vat_id: str
    series_prefix: str
    time_zone: str
    currency: str
    kind: str
    count: int = 0
    first_period: str | None = None
    last_period: str | None = None
    hash_chain_ok: bool = True
    first_broken_link: str | None = None
    totals_ok: bool = True

    @property
    def clean(self) -> bool:
        return self.hash_chain_ok and self.totals_ok

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clean"] = self.clean
        return data


@dataclass(slots=True)
class _Tally:
    """A period's documents, added up from the documents."""

    invoice_count: int = 0
    credit_note_count: int = 0
    total: Decimal = _ZERO
    absolute_total: Decimal = _ZERO
    nets: dict[tuple[Decimal | None, str], Decimal] = field(default_factory=dict)
    vats: dict[tuple[Decimal | None, str], Decimal] = field(default_factory=dict)

    def add(self, sign: int, total: Decimal, groups: tuple[charges.VatTotal, ...]) -> None:
        if sign > 0:
            self.invoice_count += 1
        else:
            self.credit_note_count += 1
        self.total += sign * total
        self.absolute_total += total
        for group in groups:
            key = (group.vat_rate, group.vat_exemption)
            self.nets[key] = self.nets.get(key, _ZERO) + sign * group.net
            self.vats[key] = self.vats.get(key, _ZERO) + sign * group.vat

    def stated(self) -> dict[str, Any]:
        """Return what a closing of these documents must state."""
        groups = tuple(
            charges.VatTotal(
                vat_rate=rate,
                vat_exemption=exemption,
                total=self.nets[(rate, exemption)] + self.vats[(rate, exemption)],
                net=self.nets[(rate, exemption)],
                vat=self.vats[(rate, exemption)],
            )
            for rate, exemption in sorted(self.nets, key=closings.group_order)
        )
        return {
            "invoice_count": self.invoice_count,
            "credit_note_count": self.credit_note_count,
            "net": sum(self.nets.values(), _ZERO),
            "vat": sum(self.vats.values(), _ZERO),
            "total": self.total,
            "vat_breakdown": closings.stored_groups(groups),
        }


def check_closings(findings: Findings) -> list[ChainReport]:
    """Check every chain of closings; add what is wrong to ``findings``."""
    reports = []
    for scope in _scopes():
        tallies = _recompute(scope)
        for kind in periods.KINDS:
            reports.append(_check_chain(findings, scope, kind, tallies[kind]))
    return reports


def _scopes() -> Iterator[closings.Scope]:
    for values in Closing.objects.values_list(*SCOPE).distinct().order_by(*SCOPE):
        yield closings.Scope(**dict(zip(SCOPE, values, strict=True)))


def _recompute(scope: closings.Scope) -> dict[str, dict[date, _Tally]]:
    """Add up the scope's documents into every period of every kind, by their own dates."""
    start_month = journal.fiscal_year_start_month()
    tallies: dict[str, dict[date, _Tally]] = {kind: {} for kind in periods.KINDS}
    starts: dict[tuple[str, date], date] = {}
    invoices = Invoice.objects.filter(
        journal_entry__series_prefix=scope.series_prefix,
        seller_vat_id=scope.seller_vat_id,
        time_zone=scope.time_zone,
        currency=scope.currency,
    ).prefetch_related("lines")
    notes = CreditNote.objects.filter(
        journal_entry__series_prefix=scope.series_prefix,
        invoice__seller_vat_id=scope.seller_vat_id,
        invoice__time_zone=scope.time_zone,
        currency=scope.currency,
    )
    documents: list[tuple[int, Any]] = [(1, invoices), (-1, notes)]
    for sign, queryset in documents:
        for document in queryset.order_by("id").iterator(CHUNK):
            day = periods.local_date(document.issued_at, scope.time_zone)
            groups = queries.vat_totals_of(document)
            for kind in periods.KINDS:
                start = starts.get((kind, day))
                if start is None:
                    period = periods.period_containing(
                        kind, day, fiscal_year_start_month=start_month
                    )
                    start = starts[(kind, day)] = period.start_date
                tallies[kind].setdefault(start, _Tally()).add(sign, document.total, groups)
    return tallies


def _check_chain(
    findings: Findings, scope: closings.Scope, kind: str, tallies: dict[date, _Tally]
) -> ChainReport:
    report = ChainReport(**scope.lookup(), kind=kind)
    start_month = journal.fiscal_year_start_month()
    previous: Closing | None = None
    perpetual = absolute = _ZERO
    for closing in closings.chain(scope, kind):
        report.count += 1
        subject = f"{scope.series_prefix} {closing.kind} {closing.start_date}"
        report.first_period = report.first_period or closing.start_date.isoformat()
        report.last_period = closing.start_date.isoformat()
        if previous is None:
            # Documents before the first closing would be missing from the grand totals.
            for start, tally in tallies.items():
                if start < closing.start_date:
                    perpetual += tally.total
                    absolute += tally.absolute_total
                    findings.add("closing_chain_starts_late", subject, f"documents from {start}")
        expected_sequence = 1 if previous is None else previous.sequence + 1
        if closing.sequence != expected_sequence:
            findings.add(
                "closing_sequence_gap",
                subject,
                f"#{closing.sequence}, expected #{expected_sequence}",
            )
        period = periods.period_containing(
            kind, closing.start_date, fiscal_year_start_month=start_month
        )
        if previous is not None and closing.start_date != previous.end_date:
            findings.add(
                "closing_period_gap", subject, f"the previous closing ends {previous.end_date}"
            )
        if (closing.start_date, closing.end_date) != (period.start_date, period.end_date) or (
            closing.started_at,
            closing.ended_at,
        ) != period.instants(scope.time_zone):
            findings.add(
                "closing_period_invalid", subject, f"not the {kind} of {closing.start_date}"
            )
        link = canonical.GENESIS_HASH if previous is None else previous.hash
        recomputed = canonical.document_hash(closings.closing_content(closing))
        if (recomputed != closing.hash or closing.previous_hash != link) and report.hash_chain_ok:
            report.hash_chain_ok = False
            report.first_broken_link = subject
            findings.add("closing_chain_broken", subject, "its hash does not recompute or link")
        tally = tallies.get(closing.start_date, _Tally())
        differs = [
            f"{name} {getattr(closing, name)} != {value}"
            for name, value in tally.stated().items()
            if getattr(closing, name) != value
        ]
        if differs:
            report.totals_ok = False
            findings.add("closing_totals_differ", subject, "; ".join(differs))
        perpetual += tally.total
        absolute += tally.absolute_total
        if (closing.perpetual_total, closing.perpetual_absolute_total) != (perpetual, absolute):
            report.totals_ok = False
            findings.add(
                "closing_perpetual_differs",
                subject,
                f"{closing.perpetual_total}/{closing.perpetual_absolute_total}"
                f" != {perpetual}/{absolute} from the documents",
            )
        previous = closing
    return report
