"""Reads: who sees which invoices, and issued documents read back as the charge contract.

Documents of every canonical version read back the same way: an invoice's lines as
``charges.ChargeLine`` and its VAT per rate as ``charges.VatTotal``, so that the API, the
documents and the accounts never ask which version they hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet

from billing import charges
from billing.models import CreditNote, Invoice, InvoiceLine
from core import roles

# Version 1 lines knew three kinds, each with a fixed unit and wording.
_V1_LINES = {
    "UNLOCK_FEE": ("unit", "Unlock fee"),
    "MINUTES": ("minute", "Minutes, {band} band"),
    "DAILY_CAP": ("day", "Daily cap"),
}


def invoices_visible_to(user: Any) -> QuerySet[Invoice]:
    """Return the invoices a user may read: finance and auditors all, a member their own."""
    invoices = Invoice.objects.select_related("stored").prefetch_related(
        "lines",
        Prefetch("credit_notes", queryset=CreditNote.objects.select_related("invoice", "stored")),
    )
    if roles.has_role(user, roles.FINANCE, roles.AUDITOR):
        return invoices
    return invoices.filter(member=user)


def credit_notes_visible_to(user: Any) -> QuerySet[CreditNote]:
    """Return the credit notes a user may read: like the invoices they correct."""
    notes = CreditNote.objects.select_related("invoice", "stored")
    if roles.has_role(user, roles.FINANCE, roles.AUDITOR):
        return notes
    return notes.filter(invoice__member=user)


def lines_of(invoice: Invoice) -> tuple[charges.ChargeLine, ...]:
    """Return an invoice's lines, in position order, as the charge contract's lines."""
    lines = sorted(invoice.lines.all(), key=lambda line: line.position)
    if invoice.canonical_version == 1:
        return tuple(_v1_line(line, invoice.vat_rate) for line in lines)
    return tuple(
        charges.ChargeLine(
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            amount=line.amount,
            vat_rate=line.vat_rate,
            vat_exemption=line.vat_exemption,
            local_date=line.local_date,
            details=line.details,
        )
        for line in lines
    )


def vat_totals_of(document: Invoice | CreditNote) -> tuple[charges.VatTotal, ...]:
    """Return a document's totals per VAT rate (and exemption), as it was issued."""
    if document.canonical_version == 1:
        return (
            charges.VatTotal(
                vat_rate=document.vat_rate,
                vat_exemption="",
                total=document.total,
                net=document.net,
                vat=document.vat,
            ),
        )
    if isinstance(document, CreditNote):
        return tuple(_vat_total(part) for part in document.vat_breakdown or ())
    return charges.vat_totals(lines_of(document), document.currency)


def single_vat_rate(totals: tuple[charges.VatTotal, ...]) -> Decimal | None:
    """Return the one VAT rate of a document's totals, or ``None`` when it has several or none."""
    if len(totals) == 1 and totals[0].vat_rate is not None:
        return totals[0].vat_rate
    return None


def _v1_line(line: InvoiceLine, vat_rate: Decimal | None) -> charges.ChargeLine:
    unit, wording = _V1_LINES[line.kind]
    band = line.band_starts_at
    per_minute = line.kind == "MINUTES"
    details: dict[str, charges.Detail] = {"capped": bool(line.capped)}
    if band is not None:
        details["band_starts_at"] = band.isoformat()
    return charges.ChargeLine(
        kind=line.kind,
        description=wording.format(band=f"{band:%H:%M}" if band else ""),
        quantity=Decimal(line.minutes or 0) if per_minute else Decimal(1),
        unit=unit,
        unit_price=line.rate if per_minute and line.rate is not None else line.amount,
        amount=line.amount,
        vat_rate=vat_rate,
        local_date=line.local_date,
        details=details,
    )


def _vat_total(part: dict[str, Any]) -> charges.VatTotal:
    rate = part["vat_rate"]
    return charges.VatTotal(
        vat_rate=None if rate is None else Decimal(rate),
        vat_exemption=part["vat_exemption"],
        total=Decimal(part["total"]),
        net=Decimal(part["net"]),
        vat=Decimal(part["vat"]),
    )
