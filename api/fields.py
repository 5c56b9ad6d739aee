"""Serializer fields shared by the API: instants in, instants out, money as strings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing import money
from core.localtime import utc_iso

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

# ISO 8601 extended format with a time (RFC 3339 and its usual relaxations: no seconds, a
# space for the T, no offset for wall-clock times). A date alone is not an instant.
_INSTANT: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field):
    """ISO 8601 in; aware when an offset is given, naive (wall clock) otherwise.

    Naive values are resolved later in the zone of the vehicle concerned, never guessed in
    the server's zone (DRF's DateTimeField would do that). Out: UTC with ``Z``.
    """

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date-time, e.g. 2026-10-25T02:10:00+01:00.",
        "needs_time": (
            "An instant needs a date and a time, e.g. 2026-10-25T02:10:00+01:00;"
            " a date alone is not one."
        ),
        "range": f"Dates must fall between {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip().upper()  # RFC 3339 allows a lower-case t and z
        if _INSTANT.fullmatch(text) is None:
            self.fail("needs_time" if _is_a_date(text) else "invalid")
        try:
            value = datetime.fromisoformat(text)
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


def _is_a_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


_JSON_TYPES: Final = {
    bool: "boolean",
    int: "number",
    float: "number",
    list: "array",
    dict: "object",
}
_EXPONENT: Final = re.compile(r"[+-]?[0-9]*\.?[0-9]+[eE][+-]?[0-9]+", re.ASCII)
_DECIMAL_COMMA: Final = re.compile(r"-?[0-9]+,[0-9]+", re.ASCII)
_NOT_FINITE: Final = {"nan", "snan", "inf", "infinity"}


@extend_schema_field({"type": "string", "format": "decimal", "example": "6.00"})
class MoneyField(serializers.Field):
    """Money as a string in plain decimal notation (``"6.00"``); numbers are refused.

    Each way of getting it wrong has its own message and code, so the client learns what
    to fix. Negative amounts are refused here (code ``negative``) unless ``signed``: a field
    whose lower bound depends on the domain (a credit must be above zero) leaves it to the
    use case, which answers zero and negative amounts alike.
    """

    default_error_messages = {
        "not_a_string": 'Send money as a string, e.g. "6.00", not a JSON {json_type}.',
        "whitespace": "Remove the spaces around the amount.",
        "exponent": 'Write the amount without an exponent, e.g. "100.00" rather than "1e2".',
        "not_finite": "NaN and infinity are not amounts.",
        "decimal_comma": 'Use a dot as the decimal separator, e.g. "1.00" rather than "1,00".',
        "invalid": 'Write the amount in plain decimal notation, e.g. "6.00".',
        "negative": "Must not be negative.",
        "places": "At most {places} decimal places.",
        "too_large": "Must be below {below}.",
    }

    def __init__(
        self,
        *,
        places: int = 4,
        below: Decimal = Decimal(1_000_000),
        signed: bool = False,
        **kwargs: Any,
    ) -> None:
        self.places = places
        self.below = below
        self.signed = signed
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string", json_type=_JSON_TYPES.get(type(data), "value"))
        try:
            value = money.parse_money(data)
        except money.InvalidAmount:
            self.fail(_money_mistake(data))
        if value < 0 and not self.signed:
            self.fail("negative")
        try:
            exponent = -int(value.as_tuple().exponent)
        except (InvalidOperation, TypeError):
            self.fail("invalid")
        if exponent > self.places:
            self.fail("places", places=self.places)
        if abs(value) >= self.below:
            self.fail("too_large", below=self.below)
        return value

    def to_representation(self, value: Decimal) -> str:
        return str(value)


def _money_mistake(text: str) -> str:
    """Name what is wrong with a string that is not a plain decimal amount."""
    if text != text.strip():
        return "whitespace"
    if _EXPONENT.fullmatch(text):
        return "exponent"
    if text.lstrip("+-").lower() in _NOT_FINITE:
        return "not_finite"
    if _DECIMAL_COMMA.fullmatch(text):
        return "decimal_comma"
    return "invalid"


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
