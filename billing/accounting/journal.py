"""Post each issued document to its journal, inside the transaction that issues it.

``billing.invoicing`` calls ``post_invoices`` or ``post_credit_note`` right after storing the
document, while the document's series counter is locked. The journal's own counter (one per
journal and fiscal year, django-sequences) is taken after it, always in that order, so that
two issues never wait for each other in a cycle. Invoices and credit notes post to two
journals of their zone (``VE`` + prefix and ``AV`` + prefix): each journal is then fed by
one series at a time, whose lock it already holds, so its counter never waits, and entry
dates follow entry numbers as document dates follow document numbers.

Under the counter lock a single document's entry adds one round trip on PostgreSQL: the
entry's number, the entry and its lines in one statement. What an entry needs to read (the
chart; for a credit note, the invoice's entry it reverses: ``reversal_of``) is read before
the series is locked.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sequences
from django.apps import apps
from django.conf import settings
from django.db import connection

from billing import charges, numbering
from billing.accounting import entries, periods
from billing.accounting.models import AccountChart, JournalEntry, JournalLine
from billing.models import CreditNote, Invoice
from core import transactions

ENTRY_FIELDS = (
    "journal_code", "journal_label", "fiscal_year", "number", "entry_date", "issued_at",
    "posted_at", "document_kind", "invoice", "credit_note", "document_number", "reverses",
    "seller_vat_id", "series_prefix", "time_zone", "currency", "label", "amount", "line_count",
)  # fmt: skip
LINE_FIELDS = (
    "position", "role", "account", "account_label", "auxiliary_account", "auxiliary_label",
    "label", "debit", "credit", "vat_rate", "vat_exemption",
)  # fmt: skip


class BrokenJournal(RuntimeError):
    """A credited invoice has no journal entry to reverse: the database was tampered with."""


def fiscal_year_start_month() -> int:
    """Return the month fiscal years start in (``settings.BILLING``; January by default)."""
    return int(settings.BILLING.get("FISCAL_YEAR_START_MONTH", 1))


def counter_name(journal_code: str, fiscal_year: int) -> str:
    """Name the django-sequences counter of a journal's fiscal year."""
    return f"journal:{journal_code}:{fiscal_year}"


def chart_for(series_prefix: str) -> entries.Chart:
    """Return the accounts and journals of a zone: its chart row over the defaults."""
    default = entries.default_chart(series_prefix, settings.BILLING["ACCOUNTS"])
    row = _chart_row(series_prefix)
    if not row:
        return default

    def pick(name: str, fallback: str) -> str:
        return str(row.get(name) or "") or fallback

    def account(name: str, fallback: entries.Account) -> entries.Account:
        return entries.Account(
            number=pick(f"{name}_account", fallback.number),
            label=pick(f"{name}_label", fallback.label),
        )

    def journal(name: str, fallback: entries.Journal) -> entries.Journal:
        return entries.Journal(
            code=pick(f"{name}_journal_code", fallback.code),
            label=pick(f"{name}_journal_label", fallback.label),
        )

    return entries.Chart(
        receivable=account("receivable", default.receivable),
        customer_prefix=pick("customer_prefix", default.customer_prefix),
        revenue=account("revenue", default.revenue),
        vat=account("vat", default.vat),
        out_of_scope=account("out_of_scope", default.out_of_scope),
        sales_journal=journal("sales", default.sales_journal),
        credit_note_journal=journal("credit_note", default.credit_note_journal),
    )


def _chart_row(series_prefix: str) -> dict[str, Any]:
    # One indexed row, without the ORM's query compilation: read on every issue.
    names, sql = _chart_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [series_prefix])
        found = cursor.fetchone()
    return {} if found is None else dict(zip(names, found, strict=True))


@functools.cache
def _chart_query() -> tuple[tuple[str, ...], str]:
    fields = [
        f for f in AccountChart._meta.concrete_fields if f.name not in {"id", "series_prefix"}
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(AccountChart._meta.db_table)
    prefix = quote(AccountChart._meta.get_field("series_prefix").column)
    # Only the model's own table and column names are formatted in; the prefix is a parameter.
    sql = f"SELECT {columns} FROM {table} WHERE {prefix} = %s"  # noqa: S608
    return tuple(field.name for field in fields), sql


def post_invoices(
    *,
    invoices: Sequence[tuple[Invoice, Sequence[charges.VatTotal]]],
    series_prefix: str,
    chart: entries.Chart | None = None,
) -> list[JournalEntry]:
    """Post a batch of invoices just stored, in their number order, with one counter call.

    For invoice runs, which number documents in batches: the batch's entry numbers are taken
    at once (``get_next_values``) after the series' batch of numbers, and the entries and
    their lines are inserted in two statements. A single invoice (a rental's) takes its entry
    number and inserts its entry and lines in one statement on PostgreSQL. ``chart`` is the
    zone's, when the caller read it before locking the series (``chart_for``).

    Raises:
        RuntimeError: outside the issuing transaction.
        entries.UnbalancedEntry: an invoice's totals disagree with its VAT groups.
    """
    transactions.require_transaction("post_invoices")
    if chart is None:
        chart = chart_for(series_prefix)
    drafts = []
    for invoice, totals in invoices:
        entry, lines = _invoice_entry(invoice, totals, chart=chart, series_prefix=series_prefix)
        _date(entry, lines, journal=chart.sales_journal, issued_at=invoice.issued_at)
        drafts.append((entry, lines))
    if len(drafts) == 1:  # an invoice ending a rental: one statement, under the counter lock
        entry, lines = drafts[0]
        _store(entry, lines, counter=counter_name(chart.sales_journal.code, entry.fiscal_year))
        return [entry]
    # A batch of one series may still straddle two fiscal years (a fiscal year that does
    # not start in January): one run of numbers per fiscal year, in the documents' order.
    for year in sorted({entry.fiscal_year for entry, _ in drafts}):
        of_year = [entry for entry, _ in drafts if entry.fiscal_year == year]
        numbers = sequences.get_next_values(
            len(of_year), counter_name(chart.sales_journal.code, year)
        )
        for entry, number in zip(of_year, numbers, strict=True):
            entry.number = number
    stored = JournalEntry.objects.bulk_create([entry for entry, _ in drafts])
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, **{name: getattr(line, name) for name in LINE_FIELDS})
        for entry, lines in zip(stored, (lines for _, lines in drafts), strict=True)
        for line in lines
    )
    return stored


def _invoice_entry(
    invoice: Invoice,
    totals: Sequence[charges.VatTotal],
    *,
    chart: entries.Chart,
    series_prefix: str,
) -> tuple[JournalEntry, tuple[entries.EntryLine, ...]]:
    label = f"Facture {invoice.number}"
    lines = entries.entry_lines(
        document_kind=entries.INVOICE,
        label=label,
        chart=chart,
        customer=entries.Customer(
            account=entries.customer_account(chart, invoice.member_id),
            name=invoice.billing_name,
        ),
        total=invoice.total,
        groups=totals,
    )
    entry = JournalEntry(
        document_kind=entries.INVOICE,
        invoice=invoice,
        document_number=invoice.number,
        seller_vat_id=invoice.seller_vat_id,
        series_prefix=series_prefix,
        time_zone=invoice.time_zone,
        currency=invoice.currency,
        label=label,
    )
    return entry, lines


@dataclasses.dataclass(frozen=True, kw_only=True)
class Reversal:
    """What a credit note's entry reverses: its invoice's entry, lines and accounts."""

    invoice_number: str
    entry: JournalEntry
    posted: tuple[JournalLine, ...]
    chart: entries.Chart


def reversal_of(invoice: Invoice) -> Reversal:
    """Read what a credit note of ``invoice`` will reverse; before its number is taken.

    Nothing here needs the credit note's number, so it is read while the series counter is
    free, and ``post_credit_note`` then only writes.

    Raises:
        BrokenJournal: the invoice has no entry.
    """
    posted = tuple(
        JournalLine.objects.filter(entry__invoice=invoice)
        .select_related("entry")
        .order_by("position")
    )
    if not posted:
        raise BrokenJournal(f"invoice {invoice.number} has no journal entry to reverse")
    entry = posted[0].entry
    return Reversal(
        invoice_number=invoice.number,
        entry=entry,
        posted=posted,
        chart=chart_for(entry.series_prefix),
    )


def post_credit_note(
    *, note: CreditNote, reversal: Reversal, parts: Sequence[charges.VatTotal]
) -> JournalEntry:
    """Post a credit note just stored: the reverse of its invoice's entry, on its accounts.

    Raises:
        RuntimeError: outside the issuing transaction.
        entries.UnbalancedEntry: the credited parts disagree with the credited amount.
    """
    posted, reversed_entry, chart = reversal.posted, reversal.entry, reversal.chart
    receivable = next(line for line in posted if line.role == entries.RECEIVABLE)
    label = f"Avoir {note.number} sur {reversal.invoice_number}"
    lines = entries.entry_lines(
        document_kind=entries.CREDIT_NOTE,
        label=label,
        chart=chart,
        customer=entries.Customer(
            account=receivable.auxiliary_account, name=receivable.auxiliary_label
        ),
        total=note.total,
        groups=parts,
        accounts={
            (line.role, line.vat_rate, line.vat_exemption): entries.Account(
                number=line.account, label=line.account_label
            )
            for line in posted
        },
    )
    entry = JournalEntry(
        document_kind=entries.CREDIT_NOTE,
        credit_note=note,
        document_number=note.number,
        reverses=reversed_entry,
        seller_vat_id=reversed_entry.seller_vat_id,
        series_prefix=reversed_entry.series_prefix,
        time_zone=reversed_entry.time_zone,
        currency=note.currency,
        label=label,
    )
    return _post(entry, lines, journal=chart.credit_note_journal, issued_at=note.issued_at)


def _post(
    entry: JournalEntry,
    lines: Sequence[entries.EntryLine],
    *,
    journal: entries.Journal,
    issued_at: datetime,
) -> JournalEntry:
    _date(entry, lines, journal=journal, issued_at=issued_at)
    # After the document's series counter (the fixed lock order), never before it.
    _store(entry, lines, counter=counter_name(journal.code, entry.fiscal_year))
    return entry


def _date(
    entry: JournalEntry,
    lines: Sequence[entries.EntryLine],
    *,
    journal: entries.Journal,
    issued_at: datetime,
) -> None:
    """Fill in what the entry takes from its document's date, journal and lines."""
    entry.entry_date = periods.local_date(issued_at, entry.time_zone)
    entry.fiscal_year = entries.fiscal_year_of(
        entry.entry_date, start_month=fiscal_year_start_month()
    )
    entry.journal_code, entry.journal_label = journal.code, journal.label
    entry.issued_at = entry.posted_at = issued_at
    entry.amount, _ = entries.entry_totals(lines)
    entry.line_count = len(lines)


def _store(entry: JournalEntry, lines: Sequence[entries.EntryLine], *, counter: str) -> None:
    """Number an entry from ``counter`` and insert it with its lines.

    One statement on PostgreSQL (the counter's upsert, as django-sequences writes it, the
    entry and its lines), so that the entry costs one round trip under the series' lock;
    three elsewhere.
    """
    if connection.vendor != "postgresql":
        entry.number = numbering.take_number(counter)
        entry.save()
        JournalLine.objects.bulk_create(
            JournalLine(entry=entry, **{name: getattr(line, name) for name in LINE_FIELDS})
            for line in lines
        )
        return
    entry_fields, sql = _insert_statement()
    # Plain values (str, int, Decimal, date, aware datetime, None): psycopg adapts them as
    # the fields would, with no model built per line.
    params = (
        [counter]
        + [getattr(entry, field.attname) for field in entry_fields if field.name != "number"]
        + [[getattr(line, name) for line in lines] for name in LINE_FIELDS]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        entry.pk, entry.number = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias


@functools.cache
def _insert_statement() -> tuple[list[Any], str]:
    """Return the fields and the one statement numbering and inserting an entry and its lines.

    Its parameters: the counter's name, the entry's fields but its number (which the
    counter gives), then one array per line field. Its one row: the entry's id and number.
    """
    entry_fields = [JournalEntry._meta.get_field(name) for name in ENTRY_FIELDS]
    line_fields = [JournalLine._meta.get_field(name) for name in LINE_FIELDS]
    quote = connection.ops.quote_name
    entry_fk = quote(JournalLine._meta.get_field("entry").column)
    line_columns = ", ".join(quote(field.column) for field in line_fields)
    # Only the models' own table and column names are formatted in; every value is a parameter.
    counters = quote(apps.get_model("sequences", "Sequence")._meta.db_table)
    values = ", ".join("counter.last" if field.name == "number" else "%s" for field in entry_fields)
    sql = (
        f"WITH counter AS (INSERT INTO {counters} (name, last) VALUES (%s, 1)"  # noqa: S608
        f" ON CONFLICT (name) DO UPDATE SET last = {counters}.last + 1 RETURNING last),"
        f" entry AS (INSERT INTO {quote(JournalEntry._meta.db_table)}"
        f" ({', '.join(quote(field.column) for field in entry_fields)})"
        f" SELECT {values} FROM counter RETURNING id, number),"
        f" line AS (INSERT INTO {quote(JournalLine._meta.db_table)} ({entry_fk}, {line_columns})"
        f" SELECT entry.id, line.* FROM entry, unnest("
        + ", ".join(f"%s::{field.db_type(connection)}[]" for field in line_fields)
        + f") AS line({line_columns})) SELECT id, number FROM entry"  # noqa: S608
    )
    return entry_fields, sql
