"""Serializer fields shared by the API: instants in, instants out, money as strings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing import money
from core.localtime import utc_iso

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field):
    """ISO 8601 in; aware when an offset is given, naive (wall clock) otherwise.

    Naive values are resolved later in the zone of the vehicle concerned, never guessed in
    the server's zone (DRF's DateTimeField would do that). Out: UTC with ``Z``.
    """

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date-time, e.g. 2026-10-25T02:10:00+01:00.",
        "range": f"Dates must fall between {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data.strip())
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is not None:
            # Only the instant matters; the client's offset (up to +-23:59 in Python, beyond
            # PostgreSQL's +-15:59) must not travel down to the database.
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                self.fail("range")
        year = value.year
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            self.fail("range")
        return value

    def to_representation(self, value: datetime) -> str:
        return utc_iso(value)


@extend_schema_field({"type": "string", "format": "decimal", "example": "6.00"})
class MoneyField(serializers.Field):
    """Money as a string in the JSON; floats and numbers are refused (STYLE rule 2)."""

    default_error_messages = {
        "invalid": 'Send money as a string, e.g. "6.00".',
        "negative": "Must not be negative.",
        "places": "At most {places} decimal places.",
        "too_large": "Must be below {below}.",
    }

    def __init__(
        self, *, places: int = 4, below: Decimal = Decimal(1_000_000), **kwargs: Any
    ) -> None:
        self.places = places
        self.below = below
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            value = money.parse_money(data)
        except money.InvalidAmount:
            self.fail("invalid")
        if value < 0:
            self.fail("negative")
        try:
            exponent = -int(value.as_tuple().exponent)
        except (InvalidOperation, TypeError):
            self.fail("invalid")
        if exponent > self.places:
            self.fail("places", places=self.places)
        if value >= self.below:
            self.fail("too_large", below=self.below)
        return value

    def to_representation(self, value: Decimal) -> str:
        return str(value)


class StrictSerializer(serializers.Serializer):
    """Refuse unknown fields: a misspelt ``endedAt`` must not silently mean "now"."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    """A model serializer that refuses unknown fields."""
