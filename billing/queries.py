"""Reads: who sees which invoices, and the filters finance and auditors use."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from billing.models import CreditNote, Invoice
from core.roles import AUDITOR, FINANCE, has_role


def invoices_visible_to(user: Any) -> QuerySet[Invoice]:
    """Return the invoices a user may read: finance and auditors all, a member their own."""
    invoices = Invoice.objects.prefetch_related(
        "lines", Prefetch("credit_notes", queryset=CreditNote.objects.select_related("invoice"))
    )
    if has_role(user, FINANCE, AUDITOR):
        return invoices
    return invoices.filter(customer=user)
