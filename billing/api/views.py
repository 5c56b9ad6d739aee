from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.fields import InstantField
from api.idempotency.keys import idempotent
from api.permissions import IsFinance, IsFinanceOrAuditor, IsMemberOrFinanceOrAuditor
from api.schema import LIST, READ, WRITE, errors
from billing import audit, exports, invoicing, queries
from billing.api import serializers as billing_serializers
from billing.models import Invoice


class NewestIssuedFirst(CursorPagination):
    ordering = ("-issued_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


class OffsetIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant that must carry its offset, turned to UTC.

    django-filter would read a naive value in the server's zone (a silent guess), and
    pass offsets beyond PostgreSQL's +-15:59 down to the database.
    """

    def to_python(self, value: object) -> datetime | None:
        if value in self.empty_values:
            return None
        try:
            parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        raise DjangoValidationError("Enter an ISO 8601 instant with an offset or Z.", "invalid")


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = OffsetIsoDateTimeField


class InvoiceFilter(filters.FilterSet):
    """Half-open periods: ``issued_from`` included, ``issued_to`` excluded (no double count)."""

    series = filters.CharFilter(field_name="series")
    member = filters.NumberFilter(field_name="member_id")
    issued_from = UtcIsoDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_to = UtcIsoDateTimeFilter(field_name="issued_at", lookup_expr="lt")

    class Meta:
        model = Invoice
        fields = ["series", "member", "issued_from", "issued_to"]


@extend_schema_view(
    get=extend_schema(
        responses={200: billing_serializers.InvoiceSerializer(many=True), **errors(*LIST)}
    )
)
class InvoiceList(generics.ListAPIView):
    permission_classes = [IsMemberOrFinanceOrAuditor]
    serializer_class = billing_serializers.InvoiceSerializer
    pagination_class = NewestIssuedFirst
    filterset_class = InvoiceFilter

    def get_queryset(self) -> QuerySet[Invoice]:
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return queries.invoices_visible_to(self.request.user)


@extend_schema_view(
    get=extend_schema(responses={200: billing_serializers.InvoiceSerializer, **errors(*READ)})
)
class InvoiceDetail(generics.RetrieveAPIView):
    permission_classes = [IsMemberOrFinanceOrAuditor]
    serializer_class = billing_serializers.InvoiceSerializer
    lookup_field = "number"

    def get_queryset(self) -> QuerySet[Invoice]:
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return queries.invoices_visible_to(self.request.user)


class ExportQuerySerializer(serializers.Serializer):
    """The export's query: instants with an offset, a half-open period, one series or all."""

    default_error_messages = {
        "needs_offset": "Give an offset or Z, e.g. 2026-01-01T00:00:00+01:00.",
        "empty_period": "issued_to must be after issued_from (the period is [from, to)).",
    }

    issued_from = InstantField(required=False)
    issued_to = InstantField(required=False)
    series = serializers.CharField(required=False, max_length=34)

    def to_internal_value(self, data: Any) -> Any:
        # A misspelt "issued_from" must not silently export every document ever issued.
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)

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


class InvoiceExport(APIView):
    """Stream every invoice and credit note of a period as CSV (finance only)."""

    permission_classes = [IsFinance]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The CSV body is a StreamingHttpResponse that no renderer touches; only errors are
        # rendered, always as JSON, so that Accept: text/csv or ?format=csv is never a 406.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="invoices_export",
        parameters=[
            OpenApiParameter(
                "issued_from",
                OpenApiTypes.DATETIME,
                description="included; ISO 8601 with an offset or Z",
            ),
            OpenApiParameter(
                "issued_to",
                OpenApiTypes.DATETIME,
                description="excluded; ISO 8601 with an offset or Z",
            ),
            OpenApiParameter(
                "series",
                str,
                description="one series; an invoice series brings its credit notes along",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Header row, then one row per invoice, then per credit note.",
            ),
            **errors(400, 401, 403),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        # Empty values mean "no filter", as in the list's filters; ?format= is DRF's own.
        query = {
            key: value
            for key, value in request.query_params.items()
            if value != "" and key != api_settings.URL_FORMAT_OVERRIDE
        }
        serializer = ExportQuerySerializer(data=query)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        rows = exports.export_rows(
            issued_from=params.get("issued_from"),
            issued_to=params.get("issued_to"),
            series=params.get("series"),
        )
        # Named in the caller's own offsets (the instants themselves are in UTC by now).
        filename = exports.export_filename(
            _as_written(query.get("issued_from")),
            _as_written(query.get("issued_to")),
            params.get("series"),
        )
        response = StreamingHttpResponse(
            exports.export_chunks(rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _as_written(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.strip())


class CreditNoteCreate(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        request=billing_serializers.CreditNoteRequestSerializer,
        responses={201: billing_serializers.CreditNoteSerializer, **errors(*WRITE, 404)},
    )
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        serializer = billing_serializers.CreditNoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = invoicing.issue_credit_note(
            invoice_number=number,
            amount=serializer.validated_data["amount"],
            reason=serializer.validated_data["reason"],
            issued_by_id=request.user.pk,
            request_key=request.headers.get("Idempotency-Key", ""),
        )
        return Response(
            billing_serializers.CreditNoteSerializer(note).data, status=status.HTTP_201_CREATED
        )


SeriesReportSerializer = inline_serializer(
    "SeriesReport",
    {
        "series": serializers.CharField(),
        "kind": serializers.ChoiceField(choices=["invoice", "credit_note"]),
        "first": serializers.IntegerField(allow_null=True),
        "last": serializers.IntegerField(allow_null=True),
        "count": serializers.IntegerField(),
        "gaps": serializers.ListField(child=serializers.IntegerField()),
        "gap_count": serializers.IntegerField(),
        "duplicates": serializers.ListField(child=serializers.IntegerField()),
        "date_order_violations": serializers.ListField(child=serializers.CharField()),
        "hash_chain_ok": serializers.BooleanField(),
        "first_broken_link": serializers.CharField(allow_null=True),
        "clean": serializers.BooleanField(),
    },
    many=True,
)


class AuditSequences(APIView):
    permission_classes = [IsFinanceOrAuditor]

    @extend_schema(
        parameters=[OpenApiParameter("series", str, description="one series only")],
        responses={200: SeriesReportSerializer, **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        series = request.query_params.get("series") or None
        reports = audit.audit_sequences(series=series)
        return Response([report.as_dict() for report in reports])
