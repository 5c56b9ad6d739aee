"""Rentals and quotes as members' apps see them (docs/reference/api.md, "Rentals")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from api.fields import InstantField, StrictSerializer
from api.schema import local_instant, utc_instant
from billing import money
from billing.api.serializers import InvoiceSerializer, LineSerializer, line_data
from core.localtime import local_iso, utc_iso
from rentals.models import Rental


# Request bodies' components are named by COMPONENT_SPLIT_REQUEST, which adds "Request":
# StartRequest, EndRequest, QuoteRequest, never QuoteRequestRequest.
@extend_schema_serializer(component_name="Start")
class StartRequestSerializer(StrictSerializer):
    vehicle = serializers.CharField(max_length=20, help_text="plate")
    started_at = InstantField(required=False, help_text="omitted: now; no offset: local time")


@extend_schema_serializer(component_name="End")
class EndRequestSerializer(StrictSerializer):
    ended_at = InstantField(required=False, help_text="omitted: now; no offset: local time")


@extend_schema_serializer(component_name="Quote")
class QuoteRequestSerializer(StrictSerializer):
    vehicle = serializers.CharField(max_length=20, help_text="plate")
    started_at = InstantField(required=False)
    ended_at = InstantField(required=False)


class QuoteSerializer(serializers.Serializer):
    vehicle = serializers.CharField()
    started_at = utc_instant()
    started_at_local = local_instant()
    ended_at = utc_instant()
    ended_at_local = local_instant()
    minutes = serializers.IntegerField()
    total = serializers.CharField()
    currency = serializers.CharField()
    lines = LineSerializer(many=True)

    def to_representation(self, quote: Any) -> dict[str, Any]:
        charge, zone = quote.charge, quote.charge.time_zone
        return {
            "vehicle": quote.vehicle.plate,
            "started_at": utc_iso(charge.started_at),
            "started_at_local": local_iso(charge.started_at, zone),
            "ended_at": utc_iso(charge.ended_at),
            "ended_at_local": local_iso(charge.ended_at, zone),
            "minutes": quote.minutes,
            "total": money.format_amount(charge.total, charge.currency),
            "currency": charge.currency,
            "lines": [line_data(line, charge.currency) for line in charge.lines],
        }


class RentalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vehicle = serializers.CharField()
    zone = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "ended"])
    started_at = utc_instant()
    started_at_local = local_instant()
    ended_at = utc_instant(allow_null=True, help_text="UTC, with Z; null while open")
    ended_at_local = local_instant(allow_null=True)
    minutes = serializers.IntegerField(allow_null=True)
    total = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    lines = LineSerializer(many=True)
    invoice = InvoiceSerializer(allow_null=True)

    def to_representation(self, rental: Rental) -> dict[str, Any]:
        zone = rental.tariff.zone  # the zone that prices and invoices it
        invoice = rental.invoice
        data: dict[str, Any] = {
            "id": rental.pk,
            "vehicle": rental.vehicle.plate,
            "zone": zone.code,
            "status": rental.status.lower(),
            "started_at": utc_iso(rental.started_at),
            "started_at_local": local_iso(rental.started_at, zone.time_zone),
            "ended_at": None,
            "ended_at_local": None,
            "minutes": None,
            "total": None,
            "currency": zone.currency,
            "lines": [],
            "invoice": None,
        }
        if rental.ended_at is not None and invoice is not None:
            invoice_data = InvoiceSerializer(invoice).data
            data.update(
                ended_at=utc_iso(rental.ended_at),
                ended_at_local=local_iso(rental.ended_at, zone.time_zone),
                minutes=rental.minutes,
                total=invoice_data["total"],
                currency=invoice.currency,
                lines=invoice_data["lines"],
                invoice=invoice_data,
            )
        return data
