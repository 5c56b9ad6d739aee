"""Issued documents are read-only here; the sequence counters are not shown at all."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from sequences.models import Sequence

from billing.models import CreditNote, Invoice, InvoiceLine

# An editable counter is a gap or a duplicate waiting to happen (PITFALLS 18).
if admin.site.is_registered(Sequence):
    admin.site.unregister(Sequence)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "issued_at", "billing_name", "total", "currency"]
    list_filter = ["series", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["number", "billing_name", "customer__username"]
    date_hierarchy = "issued_at"
    inlines = [InvoiceLineInline]


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "issued_at", "total", "currency"]
    list_filter = ["series", ("issued_at", admin.DateFieldListFilter)]
    search_fields = ["number", "invoice__number", "reason"]
    date_hierarchy = "issued_at"
