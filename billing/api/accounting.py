"""The accounts over HTTP, for finance and auditors: FEC, e-reporting, closings, the audit.

Query parameters are strict: an unknown or malformed one is refused (400), never ignored, so
that a misspelt ``fiscal_year`` cannot silently export something else.
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.permissions import IsFinanceOrAuditor
from api.schema import LIST, errors, utc_instant
from billing import audit, money
from billing.accounting import ereporting, fec
from billing.accounting.models import Closing
from billing.exports import export_chunks
from core.localtime import utc_iso


class _StrictQuery(serializers.Serializer):
    """Refuse query parameters the endpoint does not know (``?format=`` is DRF's own)."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields) - {api_settings.URL_FORMAT_OVERRIDE})
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)


def parse_query(serializer_class: type[serializers.Serializer], request: Request) -> Any:
    """Validate a request's query parameters; return the validated values.

    Raises:
        ValidationError: an unknown, missing or malformed parameter (400).
    """
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class FecQuery(_StrictQuery):
    fiscal_year = serializers.IntegerField(min_value=1900, max_value=9998)


class ReportingQuery(_StrictQuery):
    date_from = serializers.DateField(help_text="first local date, included")
    date_to = serializers.DateField(help_text="local date after the last, excluded")


class _FileDownload(APIView):
    """A streamed file; errors are still JSON (never a 406 for ``Accept: text/csv``)."""

    permission_classes = [IsFinanceOrAuditor]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        renderer = JSONRenderer()
        return renderer, renderer.media_type


class FecExport(_FileDownload):
    """Stream the FEC of a fiscal year: ``{SIREN}FEC{YYYYMMDD}.txt``."""

    @extend_schema(
        operation_id="accounting_fec",
        parameters=[OpenApiParameter("fiscal_year", int, required=True)],
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The 18 FEC fields, tab-separated, ISO 8859-15, one record a line.",
            ),
            **errors(400, 401, 403, 409),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fiscal_year = parse_query(FecQuery, request)["fiscal_year"]
        # Refused (another currency) before the response starts, as a JSON error.
        records = fec.records(fiscal_year)
        response = StreamingHttpResponse(
            fec.chunks(records), content_type="text/plain; charset=iso-8859-15"
        )
        response["Content-Disposition"] = f'attachment; filename="{fec.filename(fiscal_year)}"'
        return response


class AggregateSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="local date of the documents")
    currency = serializers.CharField()
    vat_rate = serializers.CharField(help_text='a fraction ("0.20")')
    net = serializers.CharField(help_text="total before VAT; credit notes negative")
    vat = serializers.CharField()
    transactions = serializers.IntegerField(help_text="documents (invoices and credit notes)")


class EReporting(APIView):
    """B2C sales per local day and VAT rate (JSON)."""

    permission_classes = [IsFinanceOrAuditor]

    @extend_schema(
        operation_id="accounting_e_reporting",
        parameters=[ReportingQuery],
        responses={200: AggregateSerializer(many=True), **errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = parse_query(ReportingQuery, request)
        aggregates = ereporting.daily_aggregates(**query)
        return Response([aggregate.as_dict() for aggregate in aggregates])


class EReportingExport(_FileDownload):
    """The same aggregates as CSV."""

    @extend_schema(
        operation_id="accounting_e_reporting_export",
        parameters=[ReportingQuery],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Header row first."),
            **errors(400, 401, 403),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = parse_query(ReportingQuery, request)
        aggregates = ereporting.daily_aggregates(**query)
        response = StreamingHttpResponse(
            export_chunks(ereporting.csv_rows(aggregates)), content_type="text/csv; charset=utf-8"
        )
        name = f"e-reporting_{query['date_from']}_{query['date_to']}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ClosingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Closing.Kind.choices)
    seller_vat_id = serializers.CharField()
    series_prefix = serializers.CharField()
    time_zone = serializers.CharField()
    currency = serializers.CharField()
    sequence = serializers.IntegerField()
    start_date = serializers.DateField(help_text="first local date, included")
    end_date = serializers.DateField(help_text="local date after the period, excluded")
    started_at = utc_instant()
    ended_at = utc_instant()
    invoice_count = serializers.IntegerField()
    credit_note_count = serializers.IntegerField()
    document_count = serializers.IntegerField()
    net = serializers.CharField()
    vat = serializers.CharField()
    total = serializers.CharField()
    vat_breakdown = serializers.ListField(child=serializers.DictField())
    perpetual_total = serializers.CharField()
    perpetual_absolute_total = serializers.CharField()
    closed_at = utc_instant()
    previous_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, closing: Closing) -> dict[str, Any]:
        currency = closing.currency

        def amount(value: Any) -> str:
            return money.format_amount(value, currency)

        return {
            "kind": closing.kind,
            "seller_vat_id": closing.seller_vat_id,
            "series_prefix": closing.series_prefix,
            "time_zone": closing.time_zone,
            "currency": currency,
            "sequence": closing.sequence,
            "start_date": closing.start_date.isoformat(),
            "end_date": closing.end_date.isoformat(),
            "started_at": utc_iso(closing.started_at),
            "ended_at": utc_iso(closing.ended_at),
            "invoice_count": closing.invoice_count,
            "credit_note_count": closing.credit_note_count,
            "document_count": closing.document_count,
            "net": amount(closing.net),
            "vat": amount(closing.vat),
            "total": amount(closing.total),
            "vat_breakdown": closing.vat_breakdown,
            "perpetual_total": amount(closing.perpetual_total),
            "perpetual_absolute_total": amount(closing.perpetual_absolute_total),
            "closed_at": utc_iso(closing.closed_at),
            "previous_hash": closing.previous_hash,
            "hash": closing.hash,
        }


class ClosingFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Closing.Kind.choices)
    series_prefix = filters.CharFilter()

    class Meta:
        model = Closing
        fields = ["kind", "series_prefix"]


class LatestPeriodFirst(CursorPagination):
    ordering = ("-start_date", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


class ClosingList(generics.ListAPIView):
    """Closings, latest period first; filter by kind and series prefix."""

    permission_classes = [IsFinanceOrAuditor]
    serializer_class = ClosingSerializer
    pagination_class = LatestPeriodFirst
    filterset_class = ClosingFilter
    queryset = Closing.objects.all()

    @extend_schema(responses={200: ClosingSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AuditAccounts(APIView):
    """The journal and closing checks; ``GET /api/audit/sequences/`` keeps the series."""

    permission_classes = [IsFinanceOrAuditor]

    @extend_schema(
        operation_id="audit_accounts",
        responses={200: OpenApiTypes.OBJECT, **errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(audit.audit_accounts().as_dict())
