"""Issued documents are read-only here; the sequence counters are not shown at all.

Finance and auditors (staff in those groups, with the view permissions of migration
``0003_finance_and_auditors_view_documents``) search and filter invoices and credit notes,
open the sequence audit, and finance exports a selection or a period as CSV. Every time is
shown in the document's own zone with its offset, and dates are searched and filtered by
the same rule (``billing.periods``); amounts carry the currency's decimals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ShowFacets
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from sequences.models import Sequence

from billing import admin_documents as documents
from billing import audit, display, exports, numbering, periods
from billing.admin_filters import (
    CreditNoteMemberFilter,
    CreditNotePeriodFilter,
    IssuedPeriodFilter,
    MemberFilter,
)
from billing.models import CreditNote, Invoice
from core import clock
from core.roles import FINANCE, has_role

# An editable counter is a gap or a duplicate waiting to happen: the counter is not shown.
if admin.site.is_registered(Sequence):
    admin.site.unregister(Sequence)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here (use cases and credit notes do that)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IssuedDocumentAdmin(ReadOnlyAdmin):
    """Invoices and credit notes: local times, amounts, totals of the list, period export."""

    change_list_template = "admin/billing/document_change_list.html"
    change_form_template = "admin/billing/document_change_form.html"
    show_facets = ShowFacets.NEVER  # counts per filter choice: a query each, for nothing
    list_per_page = 50
    zone_at = "time_zone"
    amount_columns = ("net_amount", "vat_percent", "vat_amount", "total_amount")

    def time_zone_of(self, document: Any) -> str:
        return str(document.time_zone)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Search the text fields, and the local issue date when the term is one (2026-06-01)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            day = date.fromisoformat(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        that_day = periods.LocalPeriod(from_date=day, to_date=day + timedelta(days=1))
        covering = that_day.covering(periods.document_time_zones(), zone_at=self.zone_at)
        return results | queryset.filter(covering), may_have_duplicates

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The documents' columns need the width at 1,400 px; the breadcrumbs still lead home.
        extra_context = {**(extra_context or {}), "is_nav_sidebar_enabled": False}
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            context["totals"] = documents.totals_by_currency(context["cl"].queryset)
            if has_role(request.user, FINANCE):
                kept = {name: request.GET.get(name) for name in (*periods.PARAMETERS, "series")}
                query = urlencode({name: value for name, value in kept.items() if value})
                context["export_url"] = reverse("admin:billing_invoice_export") + f"?{query}"
        return response

    @admin.display(description="issued (local)", ordering="issued_at")
    def issued_local(self, document: Any) -> str:
        return display.local_time(document.issued_at, self.time_zone_of(document))

    @admin.display(description="issued (UTC)")
    def issued_utc(self, document: Any) -> str:
        return display.utc_time(document.issued_at)

    @admin.display(description="net", ordering="net")
    def net_amount(self, document: Any) -> str:
        return display.amount(document.net, document.currency)

    @admin.display(description="VAT rate")
    def vat_percent(self, document: Any) -> str:
        # Null on a version-2 document whose lines carry several rates: see its VAT per rate.
        return display.percent(document.vat_rate) if document.vat_rate is not None else "several"

    @admin.display(description="VAT", ordering="vat")
    def vat_amount(self, document: Any) -> str:
        return display.amount(document.vat, document.currency)

    @admin.display(description="total", ordering="total")
    def total_amount(self, document: Any) -> str:
        return f"{display.amount(document.total, document.currency)} {document.currency}"

    @admin.display(description="VAT per rate")
    def vat_per_rate(self, document: Any) -> str:
        return documents.vat_totals_table(document)


@admin.register(Invoice)
class InvoiceAdmin(IssuedDocumentAdmin):
    list_display = [
        "number", "issued_local", "member_column", "billing_name",
        *IssuedDocumentAdmin.amount_columns,
    ]  # fmt: skip
    list_filter = [IssuedPeriodFilter, "series", MemberFilter]
    search_fields = ["number", "billing_name", "member__username", "member__id__exact"]
    search_help_text = (
        "Number, billing name, member's username or id, or a local issue date (2026-06-01)."
    )
    fieldsets = [
        (None, {"fields": ["number", "series", "sequence", "issued_local", "issued_utc",
                           "time_zone", "credit_note_list"]}),
        ("Billed", {"fields": ["member_page", "billing_name", "billing_address", "subject",
                               "period_local"]}),
        ("Amounts", {"fields": ["currency", "net_amount", "vat_amount", "total_amount",
                                "vat_per_rate", "line_table"]}),
        ("Seller", {"fields": ["seller_name", "seller_address", "seller_vat_id"]}),
        ("Hash chain", {"fields": ["canonical_version", "previous_hash", "hash"]}),
    ]  # fmt: skip
    actions = ["export_csv"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invoice]:
        return (
            super()
            .get_queryset(request)
            .select_related("member")
            .prefetch_related("lines", "credit_notes")
        )

    @admin.display(description="member", ordering="member__username")
    def member_column(self, invoice: Invoice) -> str:
        return documents.member_link(invoice.member_id, invoice.member.get_username(), short=True)

    @admin.display(description="member")
    def member_page(self, invoice: Invoice) -> str:
        return documents.member_link(invoice.member_id, invoice.member.get_username())

    @admin.display(description="billed")
    def subject(self, invoice: Invoice) -> str:
        return f"{invoice.subject_kind} {invoice.subject_id}"

    @admin.display(description="period (local)")
    def period_local(self, invoice: Invoice) -> str:
        start = display.local_time(invoice.period_started_at, invoice.time_zone)
        end = display.local_time(invoice.period_ended_at, invoice.time_zone)
        return f"{start} to {end}"

    @admin.display(description="lines")
    def line_table(self, invoice: Invoice) -> str:
        return documents.lines_table(invoice)

    @admin.display(description="credit notes")
    def credit_note_list(self, invoice: Invoice) -> str:
        return documents.credit_notes_list(invoice)

    def has_export_permission(self, request: HttpRequest) -> bool:
        """Exports are finance's, as in the API (the export endpoint is for the finance role)."""
        return has_role(request.user, FINANCE)

    @admin.action(permissions=["export"], description="Export selected as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Invoice]
    ) -> StreamingHttpResponse:
        """Stream the selected invoices, and the credit notes issued against them, as CSV."""
        rows = exports.document_rows(
            invoices=queryset,
            credit_notes=CreditNote.objects.filter(invoice__in=queryset.values("pk")),
        )
        return _csv(rows, "invoices_selected.csv")

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Stream the invoices and credit notes issued in a period (local dates), as CSV.

        The period is the list's (``period``, or ``issued_from`` / ``issued_to``) and so is
        the ``series``; the rows are those of the API's export.

        Raises:
            PermissionDenied: the user is not finance.
        """
        if not self.has_export_permission(request):
            raise PermissionDenied
        try:
            period = periods.parse(request.GET, now=clock.now())
        except periods.InvalidPeriod as exc:
            return HttpResponseBadRequest(exc.message, content_type="text/plain; charset=utf-8")
        time_zones = periods.document_time_zones()
        invoices = Invoice.objects.filter(period.covering(time_zones))
        notes = CreditNote.objects.filter(
            period.covering(time_zones, zone_at=CreditNotePeriodFilter.zone_at)
        )
        series = request.GET.get("series") or None
        if series is not None:
            invoices = invoices.filter(series=series)
            notes = notes.filter(Q(series=series) | Q(series=numbering.credit_note_series(series)))
        rows = exports.document_rows(invoices=invoices, credit_notes=notes)
        return _csv(rows, _period_filename(period, time_zones, series))

    def get_urls(self) -> list[URLPattern]:
        audit_url = path(
            "audit/",
            self.admin_site.admin_view(self.audit_view),
            name="billing_invoice_audit",
        )
        export_url = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="billing_invoice_export",
        )
        # Before the defaults, whose "<path:object_id>/" would take "audit" for an id.
        return [audit_url, export_url, *super().get_urls()]

    def audit_view(self, request: HttpRequest) -> TemplateResponse:
        """Show the sequence audit report (the one of ``GET /api/audit/sequences/``).

        Raises:
            PermissionDenied: the user may not view invoices.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        series = request.GET.get("series") or None
        try:
            reports = audit.audit_sequences(series=series)
        except audit.UnknownSeries as exc:
            messages.error(request, exc.message)  # never "nothing to audit" for a typo
            reports = []
        context = {
            **self.admin_site.each_context(request),
            "title": "Sequence audit",
            "opts": self.opts,
            "reports": reports,
            "series": series,
            "all_clean": all(report.clean for report in reports),
        }
        return TemplateResponse(request, "admin/billing/audit.html", context)


@admin.register(CreditNote)
class CreditNoteAdmin(IssuedDocumentAdmin):
    zone_at = CreditNotePeriodFilter.zone_at
    list_display = [
        "number", "issued_local", "invoice_link", "member_column",
        *IssuedDocumentAdmin.amount_columns,
    ]  # fmt: skip
    list_filter = [CreditNotePeriodFilter, "series", CreditNoteMemberFilter]
    search_fields = ["number", "invoice__number", "invoice__member__username", "reason"]
    search_help_text = "Number, invoice number, member's username, reason, or a local date."
    fieldsets = [
        (None, {"fields": ["number", "series", "sequence", "issued_local", "issued_utc",
                           "invoice", "member_column", "reason", "issued_by_name"]}),
        ("Amounts", {"fields": ["currency", "net_amount", "vat_amount", "total_amount",
                                "vat_per_rate"]}),
        ("Hash chain", {"fields": ["canonical_version", "previous_hash", "hash"]}),
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreditNote]:
        return super().get_queryset(request).select_related("invoice__member", "issued_by")

    def time_zone_of(self, document: Any) -> str:
        return str(document.invoice.time_zone)

    @admin.display(description="member", ordering="invoice__member__username")
    def member_column(self, note: CreditNote) -> str:
        member = note.invoice.member
        return documents.member_link(member.pk, member.get_username(), short=True)

    @admin.display(description="invoice", ordering="invoice__number")
    def invoice_link(self, note: CreditNote) -> str:
        url = reverse("admin:billing_invoice_change", args=[note.invoice_id])
        return format_html('<a href="{}">{}</a>', url, note.invoice.number)

    @admin.display(description="issued by")
    def issued_by_name(self, note: CreditNote) -> str:
        return note.issued_by.get_username()


def _csv(rows: Any, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.export_chunks(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period_filename(period: periods.LocalPeriod, time_zones: list[str], series: str | None) -> str:
    """Name the export after its local dates, as the API names its own."""
    dates = period.common_dates(time_zones)
    if dates is None:  # a quick period whose dates differ between zones at this instant
        return f"invoices_{period.quick}.csv"
    start, end = (
        None if day is None else datetime.combine(day, time(0), tzinfo=UTC) for day in dates
    )
    return exports.export_filename(start, end, series)


# The accounts' admin registers itself (after ReadOnlyAdmin, which it reuses).
from billing.accounting import admin as _accounting_admin  # noqa: E402, F401
