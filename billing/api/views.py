from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import audit, invoicing, queries
from billing.api import serializers as billing_serializers
from billing.models import Invoice
from config.idempotency.keys import idempotent
from config.roles import IsFinance, IsFinanceOrAuditor, IsMemberOrFinanceOrAuditor


class NewestIssuedFirst(CursorPagination):
    ordering = ("-issued_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500


class InvoiceFilter(filters.FilterSet):
    """Half-open periods: ``issued_from`` included, ``issued_to`` excluded (PITFALLS 5)."""

    series = filters.CharFilter(field_name="series")
    member = filters.NumberFilter(field_name="customer_id")
    issued_from = filters.IsoDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_to = filters.IsoDateTimeFilter(field_name="issued_at", lookup_expr="lt")

    class Meta:
        model = Invoice
        fields = ["series", "member", "issued_from", "issued_to"]


class InvoiceList(generics.ListAPIView):
    permission_classes = [IsMemberOrFinanceOrAuditor]
    serializer_class = billing_serializers.InvoiceSerializer
    pagination_class = NewestIssuedFirst
    filterset_class = InvoiceFilter

    def get_queryset(self) -> QuerySet[Invoice]:
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return queries.invoices_visible_to(self.request.user)


class InvoiceDetail(generics.RetrieveAPIView):
    permission_classes = [IsMemberOrFinanceOrAuditor]
    serializer_class = billing_serializers.InvoiceSerializer
    lookup_field = "number"

    def get_queryset(self) -> QuerySet[Invoice]:
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return queries.invoices_visible_to(self.request.user)


class CreditNoteCreate(APIView):
    permission_classes = [IsFinance]

    @extend_schema(
        request=billing_serializers.CreditNoteRequestSerializer,
        responses={201: billing_serializers.CreditNoteSerializer},
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
        responses={200: SeriesReportSerializer},
    )
    def get(self, request: Request) -> Response:
        series = request.query_params.get("series") or None
        reports = audit.audit_sequences(series=series)
        return Response([report.as_dict() for report in reports])
