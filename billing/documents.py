"""What of an issued document is hashed: the content functions shared by issue and audit.

The content names the canonical version the document was issued under, so a later version
of the form never breaks the chains of documents issued before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from billing.models import CreditNote, Invoice, InvoiceLine

INVOICE_FIELDS = (
    "number", "series", "sequence", "issued_at", "time_zone", "customer_id", "billing_name",
    "billing_address", "seller_name", "seller_address", "seller_vat_id", "subject_kind",
    "subject_id", "period_started_at", "period_ended_at", "minutes", "currency", "net",
    "vat_rate", "vat", "total", "previous_hash",
)  # fmt: skip
LINE_FIELDS = (
    "position", "kind", "local_date", "band_starts_at", "minutes", "rate", "amount", "capped",
)  # fmt: skip
CREDIT_NOTE_FIELDS = (
    "number", "series", "sequence", "issued_at", "invoice_number", "reason", "currency", "net",
    "vat_rate", "vat", "total", "issued_by_id", "previous_hash",
)  # fmt: skip


def invoice_content(invoice: Invoice, lines: Iterable[InvoiceLine]) -> dict[str, Any]:
    """Return the hashed content of an invoice and its lines (canonical version 1)."""
    content: dict[str, Any] = {"type": "invoice", "version": invoice.canonical_version}
    content.update({name: getattr(invoice, name) for name in INVOICE_FIELDS})
    content["lines"] = [
        {name: getattr(line, name) for name in LINE_FIELDS}
        for line in sorted(lines, key=lambda line: line.position)
    ]
    return content


def credit_note_content(note: CreditNote, invoice_number: str) -> dict[str, Any]:
    """Return the hashed content of a credit note (canonical version 1)."""
    content: dict[str, Any] = {"type": "credit_note", "version": note.canonical_version}
    values = {"invoice_number": invoice_number}
    content.update(
        {
            name: values[name] if name in values else getattr(note, name)
            for name in CREDIT_NOTE_FIELDS
        }
    )
    return content
