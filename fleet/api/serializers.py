from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import InstantField, MoneyField, StrictModelSerializer, StrictSerializer
from api.schema import local_instant
from billing import money
from core.localtime import local_iso
from fleet import vehicles
from fleet.models import Member, Tariff, Vehicle, Zone


class ZoneSerializer(StrictModelSerializer):
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=0)
    created_at = InstantField(read_only=True)

    def to_representation(self, instance: Zone) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["vat_rate"] = money.format_vat_rate(instance.vat_rate)
        return data

    class Meta:
        model = Zone
        fields = [
            "code", "name", "time_zone", "currency", "vat_rate", "invoice_prefix",
            "yearly_series", "created_at",
        ]  # fmt: skip


@extend_schema_field(
    {
        "type": "string",
        "maxLength": vehicles.PLATE_MAX_LENGTH,
        "pattern": vehicles.PLATE_PATTERN,
        "example": "AB-123-CD",
    }
)
class PlateField(serializers.Field):
    """A plate as sent: its shape is the use case's rule (``fleet.vehicles``), refused there
    with ``invalid_plate`` whatever is wrong with it, so that every refusal has that code."""

    default_error_messages = {"invalid": 'Send the plate as a string, e.g. "AB-123-CD".'}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def to_representation(self, value: str) -> str:
        return value


class VehicleSerializer(StrictModelSerializer):
    plate = PlateField(
        help_text="1 to 20 letters and digits in groups split by one dash or space;"
        " stored in upper case."
    )
    zone = serializers.SlugRelatedField(slug_field="code", queryset=Zone.objects.all())
    created_at = InstantField(read_only=True)

    class Meta:
        model = Vehicle
        fields = ["plate", "zone", "status", "created_at"]


class BandSerializer(StrictSerializer):
    # Minutes only: a band start with seconds would print ambiguously on invoices ("07:00").
    starts_at = serializers.TimeField(format="%H:%M", input_formats=["%H:%M"])
    per_minute = MoneyField()


class TariffSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    zone = serializers.SlugRelatedField(slug_field="code", queryset=Zone.objects.all())
    plan = serializers.SlugField(max_length=40)
    valid_from = InstantField()
    valid_from_local = local_instant(read_only=True)
    bands = BandSerializer(many=True, allow_empty=False)
    unlock_fee = MoneyField()
    minimum_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60)
    daily_cap = MoneyField(allow_null=True)
    park_per_minute = MoneyField(
        required=False, allow_null=True, help_text="null or omitted: parked minutes cost as driving"
    )
    per_km = MoneyField(required=False, help_text='per km beyond included_km; omitted: "0.00"')
    included_km = serializers.IntegerField(
        required=False, min_value=0, max_value=1_000_000, help_text="km included per rental"
    )
    created_at = InstantField(read_only=True)

    def validate_valid_from(self, value: Any) -> Any:
        if value.tzinfo is None:
            raise serializers.ValidationError("Give valid_from with an offset, e.g. +01:00.")
        return value

    def to_representation(self, instance: Tariff) -> dict[str, Any]:
        currency = instance.zone.currency
        bands = sorted(instance.bands.all(), key=lambda band: band.starts_at)
        return {
            "id": instance.pk,
            "zone": instance.zone.code,
            "plan": instance.plan,
            "valid_from": self.fields["valid_from"].to_representation(instance.valid_from),
            "valid_from_local": local_iso(instance.valid_from, instance.zone.time_zone),
            "bands": [
                {
                    "starts_at": band.starts_at.strftime("%H:%M"),
                    "per_minute": money.format_rate(band.per_minute, currency),
                }
                for band in bands
            ],
            "unlock_fee": money.format_rate(instance.unlock_fee, currency),
            "minimum_minutes": instance.minimum_minutes,
            "daily_cap": None
            if instance.daily_cap is None
            else money.format_rate(instance.daily_cap, currency),
            "park_per_minute": None
            if instance.park_per_minute is None
            else money.format_rate(instance.park_per_minute, currency),
            "per_km": money.format_rate(instance.per_km, currency),
            "included_km": instance.included_km,
            "currency": currency,
            "created_at": self.fields["created_at"].to_representation(instance.created_at),
        }


class MemberCreateSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, max_length=128)
    plan = serializers.SlugField(max_length=40)
    billing_name = serializers.CharField(max_length=200)
    billing_address = serializers.CharField()
    # Where invoices are e-mailed (with a one-click link to their PDF); optional.
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    # A business customer: its company name and SIREN, and its VAT number if it has one.
    company_name = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )
    siren = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    vat_id = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)


class MemberSerializer(serializers.ModelSerializer):
    # One id for the member across the API: the ``member`` of their invoices and exports.
    id = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email", read_only=True)
    created_at = InstantField(read_only=True)

    class Meta:
        model = Member
        fields = [
            "id", "username", "email", "plan", "billing_name", "billing_address",
            "company_name", "siren", "vat_id", "created_at",
        ]  # fmt: skip
