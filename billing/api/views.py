from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.filters import refuse_unknown_parameters
from api.idempotency.keys import idempotent
from api.pagination import StrictCursorPagination
from api.permissions import IsFinance, IsFinanceOrAuditor, IsMemberOrFinanceOrAuditor
from api.schema import LIST, READ, WRITE, ErrorSerializer, errors
from billing import audit, exports, invoicing, queries
from billing.api import filters
from billing.api import serializers as billing_serializers
from billing.models import Invoice


class NewestIssuedFirst(StrictCursorPagination):
    ordering = ("-issued_at", "-id")


@extend_schema_view(
    get=extend_schema(
        responses={200: billing_serializers.InvoiceSerializer(many=True), **errors(*LIST)}
    )
)
class InvoiceList(generics.ListAPIView):
    permission_classes = [IsMemberOrFinanceOrAuditor]
    serializer_class = billing_serializers.InvoiceSerializer
    pagination_class = NewestIssuedFirst
    filterset_class = filters.InvoiceFilter

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


class CSVRenderer(BaseRenderer):
    """Only negotiates ``text/csv`` (and ``?format=csv``): the CSV body is streamed as is."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        raise NotImplementedError("The export streams its CSV; only errors are rendered.")


NOT_ACCEPTABLE = OpenApiResponse(
    ErrorSerializer,
    description="The Accept header admits neither text/csv nor JSON (code not_acceptable).",
)


class InvoiceExport(APIView):
    """Stream every invoice and credit note of a period as CSV (finance only)."""

    permission_classes = [IsFinance]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The operation answers CSV, or JSON for errors: a client accepting neither gets a
        # 406 (as elsewhere). Errors, that 406 included, are always rendered as JSON.
        if not force:
            self.get_content_negotiator().select_renderer(
                request, [CSVRenderer(), JSONRenderer()], self.format_kwarg
            )
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
            **{
                (code, "application/json"): response
                for code, response in errors(400, 401, 403).items()
            },
            (406, "application/json"): NOT_ACCEPTABLE,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = _query(request, filters.ExportQuerySerializer)
        serializer = filters.ExportQuerySerializer(data=query)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        chunks = exports.export_bytes(
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
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _query(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, str]:
    """Return the query string for ``serializer_class``, refusing unknown or repeated names.

    Empty values mean "no filter", as in the lists' filters; ``?format=`` is DRF's own.

    Raises:
        ValidationError: a parameter is unknown or given more than once.
    """
    refuse_unknown_parameters(
        request, {*serializer_class().fields, api_settings.URL_FORMAT_OVERRIDE}
    )
    return {
        key: value
        for key, value in request.query_params.items()
        if value != "" and key != api_settings.URL_FORMAT_OVERRIDE
    }


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
        responses={200: SeriesReportSerializer, **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        serializer = filters.AuditQuerySerializer(
            data=_query(request, filters.AuditQuerySerializer)
        )
        serializer.is_valid(raise_exception=True)
        reports = audit.audit_sequences(series=serializer.validated_data.get("series"))
        return Response([report.as_dict() for report in reports])
