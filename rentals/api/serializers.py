"""Rentals and quotes as members' apps see them (docs/reference/api.md, "Rentals")."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.fields import InstantField, StrictSerializer
from api.schema import local_instant, utc_instant
from billing import money
from billing.api.serializers import InvoiceSerializer, LineSerializer, line_data
from core.localtime import local_iso, utc_iso
from rentals.models import ParkedInterval, Rental

_DISTANCE: Final = re.compile(r"[0-9]+(?:\.[0-9])?", re.ASCII)
_MAX_KM: Final = Decimal(1_000_000)


@extend_schema_field({"type": "string", "format": "decimal", "example": "12.5"})
class DistanceField(serializers.Field):
    """Kilometres as a decimal string with at most one decimal ("12.5"); numbers are refused."""

    default_error_messages = {
        "invalid": 'Send the distance in km as a string with at most one decimal, e.g. "12.5".',
        "too_large": "Must be below 1000000 km.",
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or _DISTANCE.fullmatch(data) is None:
            self.fail("invalid")
        value = Decimal(data)
        if value >= _MAX_KM:
            self.fail("too_large")
        return value

    def to_representation(self, value: Decimal) -> str:
        return str(value)


# Request bodies' components are named by COMPONENT_SPLIT_REQUEST, which adds "Request":
# StartRequest, EndRequest, QuoteRequest, never QuoteRequestRequest.
@extend_schema_serializer(component_name="Start")
class StartRequestSerializer(StrictSerializer):
    vehicle = serializers.CharField(max_length=20, help_text="plate")
    started_at = InstantField(required=False, help_text="omitted: now; no offset: local time")


@extend_schema_serializer(component_name="End")
class EndRequestSerializer(StrictSerializer):
    ended_at = InstantField(required=False, help_text="omitted: now; no offset: local time")
    distance_km = DistanceField(required=False, help_text="km driven; omitted: 0")


@extend_schema_serializer(component_name="RentalEvent")
class EventRequestSerializer(StrictSerializer):
    at = InstantField(required=False, help_text="omitted: now; no offset: local time")


class QuotedPauseSerializer(StrictSerializer):
    # "from" is a Python keyword: the field is declared below under its JSON name.
    to = InstantField(help_text="resumed at (excluded)")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        return {"from": InstantField(help_text="paused at (included)"), **fields}


@extend_schema_serializer(component_name="Quote")
class QuoteRequestSerializer(StrictSerializer):
    vehicle = serializers.CharField(max_length=20, help_text="plate")
    started_at = InstantField(required=False)
    ended_at = InstantField(required=False)
    parked = QuotedPauseSerializer(many=True, required=False, max_length=500)
    distance_km = DistanceField(required=False, help_text="km driven; omitted: 0")


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


class ParkedIntervalSerializer(serializers.Serializer):
    # "from"/"to" as in quotes; "to" is null while the rental is parked.
    to = utc_instant(allow_null=True, help_text="UTC, with Z; null while parked")
    to_local = local_instant(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        return {"from": utc_instant(), "from_local": local_instant(), **fields}


def _interval_data(interval: ParkedInterval, time_zone: str) -> dict[str, Any]:
    resumed = interval.resumed_at
    return {
        "from": utc_iso(interval.paused_at),
        "from_local": local_iso(interval.paused_at, time_zone),
        "to": None if resumed is None else utc_iso(resumed),
        "to_local": None if resumed is None else local_iso(resumed, time_zone),
    }


class RentalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vehicle = serializers.CharField()
    zone = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "ended"])
    state = serializers.ChoiceField(choices=["driving", "parked", "ended"])
    started_at = utc_instant()
    started_at_local = local_instant()
    ended_at = utc_instant(allow_null=True, help_text="UTC, with Z; null while open")
    ended_at_local = local_instant(allow_null=True)
    parked = ParkedIntervalSerializer(many=True)
    distance_km = serializers.CharField(allow_null=True, help_text="km, once ended")
    minutes = serializers.IntegerField(allow_null=True)
    total = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    lines = LineSerializer(many=True)
    invoice = InvoiceSerializer(allow_null=True)

    def to_representation(self, rental: Rental) -> dict[str, Any]:
        zone = rental.tariff.zone  # the zone that prices and invoices it
        invoice = rental.invoice
        intervals = sorted(rental.parked_intervals.all(), key=lambda interval: interval.paused_at)
        if rental.status == Rental.Status.ENDED:
            state = "ended"
        elif intervals and intervals[-1].resumed_at is None:
            state = "parked"
        else:
            state = "driving"
        data: dict[str, Any] = {
            "id": rental.pk,
            "vehicle": rental.vehicle.plate,
            "zone": zone.code,
            "status": rental.status.lower(),
            "state": state,
            "started_at": utc_iso(rental.started_at),
            "started_at_local": local_iso(rental.started_at, zone.time_zone),
            "ended_at": None,
            "ended_at_local": None,
            "parked": [_interval_data(interval, zone.time_zone) for interval in intervals],
            "distance_km": None if rental.distance_km is None else str(rental.distance_km),
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
