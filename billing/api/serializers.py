"""Invoices and credit notes as the API shows them (docs/reference/api.md, "Invoices")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from api.fields import MoneyField, StrictSerializer
from api.schema import local_instant, utc_instant
from billing import charges, money, queries
from billing.documents import store
from billing.models import CreditNote, Invoice
from core.localtime import local_iso, utc_iso


def line_data(line: charges.ChargeLine, currency: str) -> dict[str, Any]:
    """Return one charge or invoice line as the API shows it.

    ``band_starts_at``, ``minutes``, ``rate`` and ``capped`` are the per-minute view of the
    first API version, kept for its clients; ``quantity``, ``unit``, ``unit_price`` and the
    VAT fields describe every kind of line.
    """
    band = line.details.get("band_starts_at")
    per_minute = line.unit == "minute"
    return {
        "kind": line.kind,
        "description": line.description,
        "date": None if line.local_date is None else line.local_date.isoformat(),
        "band_starts_at": None if band is None else str(band)[:5],
        "minutes": int(line.quantity) if per_minute else 0,
        "rate": money.format_rate(line.unit_price, currency) if per_minute else None,
        "quantity": _quantity_text(line.quantity),
        "unit": line.unit,
        "unit_price": money.format_rate(line.unit_price, currency),
        "amount": money.format_amount(line.amount, currency),
        "vat_rate": None if line.vat_rate is None else money.format_vat_rate(line.vat_rate),
        "vat_exemption": line.vat_exemption,
        "capped": bool(line.details.get("capped", False)),
    }


def vat_total_data(group: charges.VatTotal, currency: str) -> dict[str, Any]:
    """Return one VAT rate's totals of a document as the API shows them."""
    return {
        "vat_rate": None if group.vat_rate is None else money.format_vat_rate(group.vat_rate),
        "vat_exemption": group.vat_exemption,
        "net": money.format_amount(group.net, currency),
        "vat": money.format_amount(group.vat, currency),
        "total": money.format_amount(group.total, currency),
    }


def _quantity_text(quantity: Decimal) -> str:
    # Whole quantities as integers ("20" minutes), others with their decimals ("12.5" km).
    normal = quantity.normalize()
    return str(quantity.quantize(Decimal(1))) if normal == normal.to_integral() else str(normal)


class LineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=charges.line_kind_choices())
    description = serializers.CharField()
    date = serializers.DateField(allow_null=True, help_text="local date of the service")
    band_starts_at = serializers.CharField(allow_null=True, help_text="HH:MM, local")
    minutes = serializers.IntegerField(help_text="minute lines: the minutes; others: 0")
    rate = serializers.CharField(
        allow_null=True, help_text="minute lines: the per-minute rate; others: null"
    )
    quantity = serializers.CharField(help_text="a decimal string, in unit")
    unit = serializers.ChoiceField(choices=sorted(charges.UNITS))
    unit_price = serializers.CharField(help_text="VAT included, a decimal string")
    amount = serializers.CharField(help_text="VAT included; a cap line is negative")
    vat_rate = serializers.CharField(
        allow_null=True, help_text='a fraction ("0.20"); null: outside the scope of VAT'
    )
    vat_exemption = serializers.CharField(
        allow_blank=True, help_text="the legal reason when outside the scope of VAT"
    )
    capped = serializers.BooleanField()


class VatTotalSerializer(serializers.Serializer):
    vat_rate = serializers.CharField(allow_null=True)
    vat_exemption = serializers.CharField(allow_blank=True)
    net = serializers.CharField()
    vat = serializers.CharField()
    total = serializers.CharField()


class StoredDocumentSerializer(serializers.Serializer):
    pdf = serializers.CharField(help_text="path of the PDF (Factur-X)")
    sha256 = serializers.CharField(help_text="SHA-256 of the stored file, hex")
    size = serializers.IntegerField(help_text="bytes")
    rendered_at = utc_instant()


def document_data(document: Invoice | CreditNote) -> dict[str, Any] | None:
    """Return where a document's stored PDF is and its SHA-256; ``None`` until it is stored."""
    try:
        stored = document.stored
    except ObjectDoesNotExist:
        return None
    return {
        "pdf": store.pdf_path(store.kind_of(document), document.number),
        "sha256": stored.sha256,
        "size": stored.size,
        "rendered_at": utc_iso(stored.rendered_at),
    }


class CreditNoteSerializer(serializers.Serializer):
    number = serializers.CharField()
    series = serializers.CharField()
    sequence = serializers.IntegerField()
    invoice = serializers.CharField(help_text="number of the credited invoice")
    issued_at = utc_instant()
    issued_at_local = local_instant()
    reason = serializers.CharField()
    currency = serializers.CharField()
    net = serializers.CharField()
    vat_rate = serializers.CharField(allow_null=True, help_text="null: several VAT rates")
    vat = serializers.CharField()
    total = serializers.CharField()
    vat_breakdown = VatTotalSerializer(many=True)
    document = StoredDocumentSerializer(allow_null=True, help_text="null until it is stored")
    previous_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, note: CreditNote) -> dict[str, Any]:
        currency = note.currency
        return {
            "number": note.number,
            "series": note.series,
            "sequence": note.sequence,
            "invoice": note.invoice.number,
            "issued_at": utc_iso(note.issued_at),
            "issued_at_local": local_iso(note.issued_at, note.invoice.time_zone),
            "reason": note.reason,
            "currency": currency,
            "net": money.format_amount(note.net, currency),
            "vat_rate": _vat_rate_text(note.vat_rate),
            "vat": money.format_amount(note.vat, currency),
            "total": money.format_amount(note.total, currency),
            "vat_breakdown": [
                vat_total_data(group, currency) for group in queries.vat_totals_of(note)
            ],
            "document": document_data(note),
            "previous_hash": note.previous_hash,
            "hash": note.hash,
        }


class InvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    series = serializers.CharField()
    sequence = serializers.IntegerField()
    issued_at = utc_instant()
    issued_at_local = local_instant()
    member = serializers.IntegerField(help_text="id of the billed member")
    billing_name = serializers.CharField()
    billing_address = serializers.CharField()
    buyer = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="a business customer's company, siren and vat_id (blank for a consumer)",
    )
    payment_terms_days = serializers.IntegerField(allow_null=True)
    seller = serializers.DictField(child=serializers.CharField())
    rental = serializers.IntegerField(allow_null=True)
    charge_kind = serializers.CharField(
        help_text="what was billed: rental, member_charge, subscription_period (as in the CSV)"
    )
    period_started_at = utc_instant()
    period_started_at_local = local_instant()
    period_ended_at = utc_instant()
    period_ended_at_local = local_instant()
    minutes = serializers.IntegerField()
    currency = serializers.CharField()
    net = serializers.CharField()
    vat_rate = serializers.CharField(allow_null=True, help_text="null: several VAT rates")
    vat = serializers.CharField()
    total = serializers.CharField()
    vat_breakdown = VatTotalSerializer(many=True)
    lines = LineSerializer(many=True)
    credit_notes = CreditNoteSerializer(many=True)
    document = StoredDocumentSerializer(allow_null=True, help_text="null until it is stored")
    time_zone = serializers.CharField()
    canonical_version = serializers.IntegerField()
    previous_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, invoice: Invoice) -> dict[str, Any]:
        currency, zone = invoice.currency, invoice.time_zone
        lines = queries.lines_of(invoice)
        notes = sorted(invoice.credit_notes.all(), key=lambda note: note.sequence)
        return {
            "number": invoice.number,
            "series": invoice.series,
            "sequence": invoice.sequence,
            "issued_at": utc_iso(invoice.issued_at),
            "issued_at_local": local_iso(invoice.issued_at, zone),
            "member": invoice.member_id,
            "billing_name": invoice.billing_name,
            "billing_address": invoice.billing_address,
            "buyer": {
                "company": invoice.buyer_company,
                "siren": invoice.buyer_siren,
                "vat_id": invoice.buyer_vat_id,
            },
            "payment_terms_days": invoice.payment_terms_days,
            "seller": {
                "name": invoice.seller_name,
                "legal_form": invoice.seller_legal_form,
                "siren": invoice.seller_siren,
                "address": invoice.seller_address,
                "vat_id": invoice.seller_vat_id,
            },
            "rental": invoice.subject_id if invoice.subject_kind == "rental" else None,
            "charge_kind": invoice.subject_kind,
            "period_started_at": utc_iso(invoice.period_started_at),
            "period_started_at_local": local_iso(invoice.period_started_at, zone),
            "period_ended_at": utc_iso(invoice.period_ended_at),
            "period_ended_at_local": local_iso(invoice.period_ended_at, zone),
            "minutes": sum(int(line.quantity) for line in lines if line.unit == "minute"),
            "currency": currency,
            "net": money.format_amount(invoice.net, currency),
            "vat_rate": _vat_rate_text(invoice.vat_rate),
            "vat": money.format_amount(invoice.vat, currency),
            "total": money.format_amount(invoice.total, currency),
            "vat_breakdown": [
                vat_total_data(group, currency) for group in queries.vat_totals_of(invoice)
            ],
            "lines": [line_data(line, currency) for line in lines],
            "credit_notes": [CreditNoteSerializer(note).data for note in notes],
            "document": document_data(invoice),
            "time_zone": zone,
            "canonical_version": invoice.canonical_version,
            "previous_hash": invoice.previous_hash,
            "hash": invoice.hash,
        }


def _vat_rate_text(vat_rate: Decimal | None) -> str | None:
    return None if vat_rate is None else money.format_vat_rate(vat_rate)


# COMPONENT_SPLIT_REQUEST adds "Request" to request bodies' names: CreditNoteRequest.
@extend_schema_serializer(component_name="CreditNote")
class CreditNoteRequestSerializer(StrictSerializer):
    amount = MoneyField(below=Decimal(10) ** 15, signed=True)  # zero or less: invalid_credit
    reason = serializers.CharField(max_length=1000)
