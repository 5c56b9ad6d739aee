"""Issued documents are read-only here; the sequence counters are not shown at all.

Finance and auditors (staff in those groups, with the view permissions of migration
``0003_finance_and_auditors_view_documents``) search and filter invoices, open the sequence
audit, and finance exports a selection as CSV.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from sequences.models import Sequence

from billing import audit, exports
from billing.models import CreditNote, Invoice, InvoiceLine
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
    """Invoices and credit notes: searchable by their text fields and by issue date."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Search the text fields, and the UTC issue date when the term is one (2026-06-01)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            day = date.fromisoformat(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        return results | queryset.filter(issued_at__date=day), may_have_duplicates


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ["position", "kind", "local_date", "band_starts_at", "minutes", "rate", "amount"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(IssuedDocumentAdmin):
    list_display = [
        "number",
        "series",
        "issued_at",
        "member",
        "billing_name",
        "total",
        "currency",
    ]
    list_filter = ["series", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["number", "billing_name", "member__username", "member__id__exact"]
    search_help_text = "Number, billing name, member's username or id, or a UTC date (2026-06-01)."
    date_hierarchy = "issued_at"
    inlines = [InvoiceLineInline]
    actions = ["export_csv"]
    change_list_template = "admin/billing/invoice/change_list.html"

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
        response = StreamingHttpResponse(
            exports.export_chunks(rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="invoices_selected.csv"'
        return response

    def get_urls(self) -> list[URLPattern]:
        audit_url = path(
            "audit/",
            self.admin_site.admin_view(self.audit_view),
            name="billing_invoice_audit",
        )
        # Before the defaults, whose "<path:object_id>/" would take "audit" for an id.
        return [audit_url, *super().get_urls()]

    def audit_view(self, request: HttpRequest) -> TemplateResponse:
        """Show the sequence audit report (the one of ``GET /api/audit/sequences/``).

        Raises:
            PermissionDenied: the user may not view invoices.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        series = request.GET.get("series") or None
        reports = audit.audit_sequences(series=series)
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
    list_display = ["number", "series", "invoice", "issued_at", "total", "currency"]
    list_filter = ["series", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["number", "invoice__number", "invoice__member__username", "reason"]
    search_help_text = "Number, invoice number, member's username, reason, or a UTC date."
    date_hierarchy = "issued_at"


# The accounts' admin registers itself (after ReadOnlyAdmin, which it reuses).
from billing.accounting import admin as _accounting_admin  # noqa: E402, F401
