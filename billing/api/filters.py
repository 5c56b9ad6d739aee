"""The query strings of the invoice list, the export and the audit, each checked in full.

Periods are half-open: ``issued_from`` included, ``issued_to`` excluded (no double count).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django_filters import rest_framework as filters
from rest_framework import serializers

from api.fields import InstantField
from api.filters import IdFilter, UtcIsoDateTimeFilter
from billing.models import Invoice

SERIES_MAX_LENGTH = 34  # "AV-" + a 10-character prefix + "-" + a year, with room to spare


class InvoiceFilter(filters.FilterSet):
    """``GET /api/invoices/``: by series, member id and a half-open issue period."""

    series = filters.CharFilter(field_name="series", max_length=SERIES_MAX_LENGTH)
    member = IdFilter(field_name="member_id")
    issued_from = UtcIsoDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_to = UtcIsoDateTimeFilter(field_name="issued_at", lookup_expr="lt")

    class Meta:
        model = Invoice
        fields = ["series", "member", "issued_from", "issued_to"]


class StrictQuerySerializer(serializers.Serializer):
    """A query string read by a serializer: unknown parameters are refused, not ignored."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)


class ExportQuerySerializer(StrictQuerySerializer):
    """The export's query: instants with an offset, a half-open period, one series or all."""

    default_error_messages = {
        "needs_offset": "Give an offset or Z, e.g. 2026-01-01T00:00:00+01:00.",
        "empty_period": "issued_to must be after issued_from (the period is [from, to)).",
    }

    issued_from = InstantField(required=False)
    issued_to = InstantField(required=False)
    series = serializers.CharField(required=False, max_length=SERIES_MAX_LENGTH)

    def validate_issued_from(self, value: datetime) -> datetime:
        return self._aware(value)

    def validate_issued_to(self, value: datetime) -> datetime:
        return self._aware(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("issued_from"), attrs.get("issued_to")
        if start is not None and end is not None and not start < end:
            raise serializers.ValidationError(
                {"issued_to": [self.error_messages["empty_period"]]}, code="empty_period"
            )
        return attrs

    def _aware(self, value: datetime) -> datetime:
        # No vehicle here whose zone could read a wall-clock time: only an instant will do.
        if value.tzinfo is None:
            self.fail("needs_offset")
        return value


class AuditQuerySerializer(StrictQuerySerializer):
    """The audit's query: one series, or every series when omitted."""

    series = serializers.CharField(required=False, max_length=SERIES_MAX_LENGTH)
