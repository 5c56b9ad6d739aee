"""Post the documents issued before the journal existed, in issue order, once.

From this release on every document posts its entry when it is issued; the documents
already issued post theirs here, so that every document is posted exactly once and the
FEC of a year under way holds all of it. They post to the default chart (the chart table
is new, hence empty) and in each journal in the order they were issued, numbered before any
entry posted by the running service; their ``posted_at`` (the FEC's ValidDate) is now,
their date the document's own. Nothing here reads the models of later releases: documents
are read as the historical models give them, and the amounts come from the pure charge
contract and accounting rules, as when issuing.

A series names its zone's prefix alone or with the local year (``PAR``, ``PAR-2026``);
prefixes have no hyphen (fleet's validator), so the prefix is what precedes ``-YYYY``.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from sequences import get_next_value

from billing import charges
from billing.accounting import entries, journal, periods

_YEARLY = re.compile(r"(?P<prefix>.+)-[0-9]{4}")


def _prefix(series):
    match = _YEARLY.fullmatch(series)
    return match["prefix"] if match else series


def _groups(document, lines=None):
    if document.canonical_version == 1:
        return (
            charges.VatTotal(
                vat_rate=document.vat_rate,
                vat_exemption="",
                total=document.total,
                net=document.net,
                vat=document.vat,
            ),
        )
    if lines is None:  # a credit note: its parts as hashed
        return tuple(
            charges.VatTotal(
                vat_rate=None if part["vat_rate"] is None else Decimal(part["vat_rate"]),
                vat_exemption=part["vat_exemption"],
                total=Decimal(part["total"]),
                net=Decimal(part["net"]),
                vat=Decimal(part["vat"]),
            )
            for part in document.vat_breakdown or ()
        )
    return charges.vat_totals(
        [
            charges.ChargeLine(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                amount=line.amount,
                vat_rate=line.vat_rate,
                vat_exemption=line.vat_exemption,
                local_date=line.local_date,
                details=line.details,
            )
            for line in sorted(lines, key=lambda line: line.position)
        ],
        document.currency,
    )


def post_backlog(apps, schema_editor):
    invoice_model = apps.get_model("billing", "Invoice")
    note_model = apps.get_model("billing", "CreditNote")
    entry_model = apps.get_model("billing", "JournalEntry")
    line_model = apps.get_model("billing", "JournalLine")
    if not (
        invoice_model.objects.filter(journal_entry__isnull=True).exists()
        or note_model.objects.filter(journal_entry__isnull=True).exists()
    ):
        return
    posted_at = timezone.now()
    start_month = settings.BILLING.get("FISCAL_YEAR_START_MONTH", 1)
    numbers = settings.BILLING["ACCOUNTS"]

    def post(document, *, kind, prefix, time_zone, label, customer, groups, reverses):
        chart = entries.default_chart(prefix, numbers)
        book = chart.sales_journal if kind == entries.INVOICE else chart.credit_note_journal
        lines = entries.entry_lines(
            document_kind=kind,
            label=label,
            chart=chart,
            customer=entries.Customer(
                account=entries.customer_account(chart, customer[0]), name=customer[1]
            ),
            total=document.total,
            groups=groups,
        )
        day = periods.local_date(document.issued_at, time_zone)
        fiscal_year = entries.fiscal_year_of(day, start_month=start_month)
        entry = entry_model.objects.create(
            journal_code=book.code,
            journal_label=book.label,
            fiscal_year=fiscal_year,
            number=get_next_value(journal.counter_name(book.code, fiscal_year)),
            entry_date=day,
            issued_at=document.issued_at,
            posted_at=posted_at,
            document_kind=kind,
            invoice=document if kind == entries.INVOICE else None,
            credit_note=document if kind == entries.CREDIT_NOTE else None,
            document_number=document.number,
            reverses_id=reverses,
            seller_vat_id=customer[2],
            series_prefix=prefix,
            time_zone=time_zone,
            currency=document.currency,
            label=label,
            amount=entries.entry_totals(lines)[0],
            line_count=len(lines),
        )
        line_model.objects.bulk_create(
            [
                line_model(
                    entry=entry,
                    **{name: getattr(line, name) for name in journal.LINE_FIELDS},
                )
                for line in lines
            ]
        )
        return entry

    posted = {}
    invoices = (
        invoice_model.objects.filter(journal_entry__isnull=True)
        .prefetch_related("lines")
        .order_by("issued_at", "series", "sequence")
    )
    for invoice in invoices.iterator(chunk_size=2000):
        posted[invoice.pk] = post(
            invoice,
            kind=entries.INVOICE,
            prefix=_prefix(invoice.series),
            time_zone=invoice.time_zone,
            label=f"Facture {invoice.number}",
            customer=(invoice.member_id, invoice.billing_name, invoice.seller_vat_id),
            groups=_groups(invoice, invoice.lines.all()),
            reverses=None,
        ).pk
    notes = (
        note_model.objects.filter(journal_entry__isnull=True)
        .select_related("invoice")
        .order_by("issued_at", "series", "sequence")
    )
    for note in notes.iterator(chunk_size=2000):
        invoice = note.invoice
        reverses = posted.get(invoice.pk) or (
            entry_model.objects.filter(invoice=invoice).values_list("pk", flat=True).first()
        )
        post(
            note,
            kind=entries.CREDIT_NOTE,
            prefix=_prefix(invoice.series),
            time_zone=invoice.time_zone,
            label=f"Avoir {note.number} sur {invoice.number}",
            customer=(invoice.member_id, invoice.billing_name, invoice.seller_vat_id),
            groups=_groups(note),
            reverses=reverses,
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_finance_and_auditors_view_the_accounts")]

    operations = [migrations.RunPython(post_backlog, migrations.RunPython.noop)]
