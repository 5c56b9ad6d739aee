"""What the finance admin shows of a document: its lines, VAT per rate, credit notes, totals.

Every canonical version reads back the same way (``billing.queries.lines_of`` and
``vat_totals_of``), so a version-1 invoice and a version-2 one with VAT per line are shown
alike. Amounts carry the currency's decimals and VAT rates are percents (``billing.display``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from billing import charges, display, queries
from billing.models import CreditNote, Invoice


def member_link(member_id: int, username: str, *, short: bool = False) -> SafeString:
    """Link a member to their invoices: what finance may open (not the account itself)."""
    url = reverse("admin:billing_invoice_changelist") + f"?member={member_id}"
    if short:  # a list's column: the username, the id on hover
        return format_html(
            '<a href="{}" title="Invoices of member {}">{}</a>', url, member_id, username
        )
    return format_html(
        '<a href="{}" title="Invoices of member {}">{} (member {})</a>',
        url,
        member_id,
        username,
        member_id,
    )


def lines_table(invoice: Invoice) -> SafeString:
    """Render an invoice's lines with their quantity, unit price, amount and VAT rate."""
    currency = invoice.currency
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class='amount'>{}</td>"
        "<td class='amount'>{}</td><td class='amount'>{}</td><td>{}</td></tr>",
        (
            (
                position,
                line.description,
                line.local_date.isoformat() if line.local_date else "-",
                f"{line.quantity.normalize():f} {line.unit}",
                display.rate(line.unit_price, currency),
                display.amount(line.amount, currency),
                _vat(line.vat_rate, line.vat_exemption),
            )
            for position, line in enumerate(queries.lines_of(invoice), start=1)
        ),
    )
    return format_html(
        '<table class="document-lines"><thead><tr><th>#</th><th>Description</th>'
        "<th>Local date</th><th>Quantity</th><th>Unit price</th><th>Amount</th><th>VAT</th>"
        "</tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def vat_totals_table(document: Invoice | CreditNote) -> SafeString:
    """Render a document's net, VAT and total per VAT rate (EU VAT directive art. 226)."""
    currency = document.currency
    return _vat_table(queries.vat_totals_of(document), currency)


def credit_notes_list(invoice: Invoice) -> SafeString:
    """List an invoice's credit notes, each linked to its page, or say there is none."""
    notes = sorted(invoice.credit_notes.all(), key=lambda note: note.sequence)
    if not notes:
        return format_html("{}", "None.")
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a>, issued {}: {} {} ({})</li>',
        (
            (
                reverse("admin:billing_creditnote_change", args=[note.pk]),
                note.number,
                display.local_time(note.issued_at, invoice.time_zone),
                display.amount(note.total, note.currency),
                note.currency,
                note.reason,
            )
            for note in notes
        ),
    )
    return format_html('<ul class="credit-notes">{}</ul>', items)


def totals_by_currency(documents: QuerySet[Any]) -> list[dict[str, Any]]:
    """Count and sum the net, VAT and total of ``documents``, one row per currency."""
    sums = (
        documents.order_by()
        .prefetch_related(None)
        .values("currency")
        .annotate(count=Count("pk"), net=Sum("net"), vat=Sum("vat"), total=Sum("total"))
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"],
            "count": row["count"],
            **{
                name: display.amount(row[name], row["currency"]) for name in ("net", "vat", "total")
            },
        }
        for row in sums
    ]


def _vat(vat_rate: Any, exemption: str) -> str:
    return display.percent(vat_rate) if vat_rate is not None else f"outside VAT: {exemption}"


def _vat_table(totals: tuple[charges.VatTotal, ...], currency: str) -> SafeString:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td class='amount'>{}</td><td class='amount'>{}</td>"
        "<td class='amount'>{}</td></tr>",
        (
            (
                _vat(total.vat_rate, total.vat_exemption),
                display.amount(total.net, currency),
                display.amount(total.vat, currency),
                display.amount(total.total, currency),
            )
            for total in totals
        ),
    )
    return format_html(
        '<table class="vat-totals"><thead><tr><th>VAT rate</th><th>Net</th><th>VAT</th>'
        "<th>Total</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )
