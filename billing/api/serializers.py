"""Invoices and credit notes as the API shows them (API.md, "Invoices")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from api.fields import MoneyField, StrictSerializer
from billing import money, pricing
from billing.models import CreditNote, Invoice, InvoiceLine
from core.localtime import local_iso, utc_iso


def line_data(line: pricing.ChargeLine | InvoiceLine, currency: str) -> dict[str, Any]:
    """Return one charge or invoice line as the API shows it."""
    local_date = line.date if isinstance(line, pricing.ChargeLine) else line.local_date
    return {
        "kind": line.kind,
        "date": local_date.isoformat(),
        "band_starts_at": (
            None if line.band_starts_at is None else line.band_starts_at.strftime("%H:%M")
        ),
        "minutes": line.minutes,
        "rate": None if line.rate is None else money.format_rate(line.rate, currency),
        "amount": money.format_amount(line.amount, currency),
        "capped": line.capped,
    }


class LineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=InvoiceLine.Kind.choices)
    date = serializers.DateField()
    band_starts_at = serializers.CharField(allow_null=True, help_text="HH:MM, local")
    minutes = serializers.IntegerField()
    rate = serializers.CharField(allow_null=True, help_text="per minute, a decimal string")
    amount = serializers.CharField(help_text="a decimal string; a cap line is negative")
    capped = serializers.BooleanField()


class CreditNoteSerializer(serializers.Serializer):
    number = serializers.CharField()
    series = serializers.CharField()
    sequence = serializers.IntegerField()
    invoice = serializers.CharField(help_text="number of the credited invoice")
    issued_at = serializers.CharField()
    issued_at_local = serializers.CharField()
    reason = serializers.CharField()
    currency = serializers.CharField()
    net = serializers.CharField()
    vat_rate = serializers.CharField()
    vat = serializers.CharField()
    total = serializers.CharField()
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
            "vat_rate": money.format_vat_rate(note.vat_rate),
            "vat": money.format_amount(note.vat, currency),
            "total": money.format_amount(note.total, currency),
            "previous_hash": note.previous_hash,
            "hash": note.hash,
        }


class InvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    series = serializers.CharField()
    sequence = serializers.IntegerField()
    issued_at = serializers.CharField()
    issued_at_local = serializers.CharField()
    member = serializers.IntegerField(help_text="id of the billed user")
    billing_name = serializers.CharField()
    billing_address = serializers.CharField()
    seller = serializers.DictField(child=serializers.CharField())
    rental = serializers.IntegerField(allow_null=True)
    period_started_at = serializers.CharField()
    period_started_at_local = serializers.CharField()
    period_ended_at = serializers.CharField()
    period_ended_at_local = serializers.CharField()
    minutes = serializers.IntegerField()
    currency = serializers.CharField()
    net = serializers.CharField()
    vat_rate = serializers.CharField()
    vat = serializers.CharField()
    total = serializers.CharField()
    lines = LineSerializer(many=True)
    credit_notes = CreditNoteSerializer(many=True)
    time_zone = serializers.CharField()
    canonical_version = serializers.IntegerField()
    previous_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, invoice: Invoice) -> dict[str, Any]:
        currency, zone = invoice.currency, invoice.time_zone
        lines = sorted(invoice.lines.all(), key=lambda line: line.position)
        notes = sorted(invoice.credit_notes.all(), key=lambda note: note.sequence)
        return {
            "number": invoice.number,
            "series": invoice.series,
            "sequence": invoice.sequence,
            "issued_at": utc_iso(invoice.issued_at),
            "issued_at_local": local_iso(invoice.issued_at, zone),
            "member": invoice.customer_id,
            "billing_name": invoice.billing_name,
            "billing_address": invoice.billing_address,
            "seller": {
                "name": invoice.seller_name,
                "address": invoice.seller_address,
                "vat_id": invoice.seller_vat_id,
            },
            "rental": invoice.subject_id if invoice.subject_kind == "rental" else None,
            "period_started_at": utc_iso(invoice.period_started_at),
            "period_started_at_local": local_iso(invoice.period_started_at, zone),
            "period_ended_at": utc_iso(invoice.period_ended_at),
            "period_ended_at_local": local_iso(invoice.period_ended_at, zone),
            "minutes": invoice.minutes,
            "currency": currency,
            "net": money.format_amount(invoice.net, currency),
            "vat_rate": money.format_vat_rate(invoice.vat_rate),
            "vat": money.format_amount(invoice.vat, currency),
            "total": money.format_amount(invoice.total, currency),
            "lines": [line_data(line, currency) for line in lines],
            "credit_notes": [CreditNoteSerializer(note).data for note in notes],
            "time_zone": zone,
            "canonical_version": invoice.canonical_version,
            "previous_hash": invoice.previous_hash,
            "hash": invoice.hash,
        }


class CreditNoteRequestSerializer(StrictSerializer):
    amount = MoneyField(below=Decimal(10) ** 15)
    reason = serializers.CharField(max_length=1000)
