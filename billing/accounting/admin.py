"""The accounts in the admin: entries and closings read-only, the chart kept by finance."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.accounting.models import AccountChart, Closing, JournalEntry, JournalLine
from billing.admin import ReadOnlyAdmin


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = [
        "position", "account", "account_label", "auxiliary_account", "label", "debit", "credit",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "journal_code", "fiscal_year", "number", "entry_date", "document_number", "label",
        "amount", "currency",
    ]  # fmt: skip
    list_filter = ["journal_code", "fiscal_year", "document_kind"]
    search_fields = ["document_number", "label"]
    date_hierarchy = "issued_at"
    inlines = [JournalLineInline]


@admin.register(Closing)
class ClosingAdmin(ReadOnlyAdmin):
    list_display = [
        "series_prefix", "kind", "start_date", "invoice_count", "credit_note_count", "total",
        "perpetual_total", "currency",
    ]  # fmt: skip
    list_filter = ["kind", "series_prefix"]


@admin.register(AccountChart)
class AccountChartAdmin(admin.ModelAdmin):
    """Finance keeps the chart; a blank field posts to the default account."""

    list_display = ["series_prefix", "receivable_account", "revenue_account", "vat_account"]
