"""Stream invoices and credit notes as CSV for finance, in constant memory.

One header row, then one row per document: every invoice (by series, then sequence),
then every credit note (by series, then sequence). Amounts are formatted as in the JSON API:
strings with the currency's decimals. ``export_bytes`` is what the API and the command send:
on PostgreSQL the rows come formatted from ``COPY`` (``billing.export_copy``, the same bytes
at the speed of COPY); elsewhere from ``document_rows``, which reads rows with
``.iterator()`` in chunks and formats them here. Either way the process holds one chunk at a
time whatever the period; nothing builds a list of rows.

``charge_kind`` (the last column, added after the others so that their bytes stay as they
were) says what was billed: the invoice's subject kind, as its producer named it
(``rental``, ``member_charge``, ``subscription_period``); a credit note, its invoice's. It is
a column of the invoice row, so no line is read to export it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, time
from typing import Any, Final

from django.db import connection
from django.db.models import F, Q, QuerySet

from billing import export_copy, money, numbering
from billing.models import CreditNote, Invoice
from core.localtime import local_iso, utc_iso

CHUNK: Final = 2000
INVOICE, CREDIT_NOTE = "invoice", "credit_note"
COLUMNS: Final = (
    "document_type", "number", "series", "sequence", "issued_at_utc", "issued_at_local",
    "time_zone", "member_id", "billing_name", "invoice_number", "currency", "net",
    "vat_rate", "vat", "total", "hash", "charge_kind",
)  # fmt: skip

# What each column is read from, by name: an invoice names itself as the invoice (so that
# finance can group by it); a credit note has no zone, member or name of its own, so those
# of the invoice it credits.
_INVOICE_VALUES: Final = {
    "number": F("number"), "series": F("series"), "sequence": F("sequence"),
    "issued_at": F("issued_at"), "time_zone": F("time_zone"), "member_id": F("member_id"),
    "billing_name": F("billing_name"), "invoice_number": F("number"),
    "currency": F("currency"), "net": F("net"), "vat_rate": F("vat_rate"), "vat": F("vat"),
    "total": F("total"), "hash": F("hash"), "charge_kind": F("subject_kind"),
}  # fmt: skip
_CREDIT_NOTE_VALUES: Final = {
    **_INVOICE_VALUES,
    "time_zone": F("invoice__time_zone"), "member_id": F("invoice__member_id"),
    "billing_name": F("invoice__billing_name"), "invoice_number": F("invoice__number"),
    "charge_kind": F("invoice__subject_kind"),
}  # fmt: skip
_UNSAFE_IN_FILENAME: Final = re.compile(r"[^A-Za-z0-9_-]+")
_FORMULA_STARTS: Final = frozenset("=+-@\t\r")


class _Echo:
    """A file-like object whose ``write`` hands the line back: no buffer grows."""

    def write(self, value: str) -> str:
        return value


def export_rows(
    *,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    series: str | None = None,
) -> Iterator[str]:
    """Yield CSV lines: the header, then the documents issued in ``[issued_from, issued_to)``.

    ``series`` keeps one series: an invoice series brings its credit notes (``AV-`` + it)
    along; a credit-note series alone gives only those credit notes.
    """
    invoices = Invoice.objects.all()
    notes = CreditNote.objects.all()
    if issued_from is not None:
        invoices = invoices.filter(issued_at__gte=issued_from)
        notes = notes.filter(issued_at__gte=issued_from)
    if issued_to is not None:
        invoices = invoices.filter(issued_at__lt=issued_to)
        notes = notes.filter(issued_at__lt=issued_to)
    if series is not None:
        invoices = invoices.filter(series=series)
        notes = notes.filter(Q(series=series) | Q(series=numbering.credit_note_series(series)))
    return document_rows(invoices=invoices, credit_notes=notes)


def export_bytes(
    *,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    series: str | None = None,
    counter: list[int] | None = None,
) -> Iterator[bytes]:
    """Yield the export of ``export_rows`` as UTF-8 bytes, in chunks of about 64 KiB.

    ``counter``, if given, receives the number of documents written so far (its first item).
    """
    if connection.vendor == "postgresql":
        return export_copy.copy_chunks(
            _header().encode(),
            issued_from=issued_from,
            issued_to=issued_to,
            series=series,
            counter=counter,
        )
    return _encoded(
        export_rows(issued_from=issued_from, issued_to=issued_to, series=series), counter
    )


def _encoded(lines: Iterator[str], counter: list[int] | None) -> Iterator[bytes]:
    header = next(lines)
    yield header.encode()
    pending: list[str] = []
    length = 0
    for line in lines:
        pending.append(line)
        length += len(line)
        if length >= 64 * 1024:
            if counter is not None:
                counter[0] += len(pending)
            yield "".join(pending).encode()
            pending.clear()
            length = 0
    if pending:
        if counter is not None:
            counter[0] += len(pending)
        yield "".join(pending).encode()


def _header() -> str:
    return str(csv.DictWriter(_Echo(), fieldnames=COLUMNS).writeheader())


def document_rows(
    *, invoices: QuerySet[Invoice], credit_notes: QuerySet[CreditNote]
) -> Iterator[str]:
    """Yield CSV lines: the header, then ``invoices`` and ``credit_notes`` in number order."""
    writer = csv.DictWriter(_Echo(), fieldnames=COLUMNS)
    yield _header()
    for document_type, documents, values in (
        (INVOICE, invoices, _INVOICE_VALUES),
        (CREDIT_NOTE, credit_notes, _CREDIT_NOTE_VALUES),
    ):
        rows = (
            documents.order_by("series", "sequence", "id")
            .values(**_aliased(values))
            .iterator(chunk_size=CHUNK)
        )
        for row in rows:
            yield writer.writerow(_formatted(document_type, row))


def export_chunks(lines: Iterable[str], *, size: int = 64 * 1024) -> Iterator[str]:
    """Join ``lines`` into pieces of about ``size`` characters: one write each, not one a row."""
    pending: list[str] = []
    length = 0
    for line in lines:
        pending.append(line)
        length += len(line)
        if length >= size:
            yield "".join(pending)
            pending.clear()
            length = 0
    if pending:
        yield "".join(pending)


def export_filename(
    issued_from: datetime | None, issued_to: datetime | None, series: str | None = None
) -> str:
    """Name the export after its series and period: ``invoices_2026-01-01_2026-02-01.csv``."""
    parts = ["invoices"]
    if series:
        parts.append(_UNSAFE_IN_FILENAME.sub("_", series).strip("_") or "series")
    if issued_from is not None and issued_to is not None:
        parts += [_bound(issued_from), _bound(issued_to)]
    elif issued_from is not None:
        parts += ["from", _bound(issued_from)]
    elif issued_to is not None:
        parts += ["until", _bound(issued_to)]
    else:
        parts.append("all")
    return "_".join(parts) + ".csv"


def _bound(instant: datetime) -> str:
    # The date as the caller wrote it (in its own offset); the time only when not midnight.
    if instant.time() == time(0):
        return instant.date().isoformat()
    return instant.strftime("%Y-%m-%dT%H%M")


def spreadsheet_safe(text: str) -> str:
    """Quote text a spreadsheet would run as a formula (OWASP "CSV injection").

    A member chooses their billing name; finance opens the export in a spreadsheet, where a
    cell starting with = + - @ (or a tab or carriage return) is evaluated. A leading
    apostrophe makes it plain text and is not shown.
    """
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _formatted(document_type: str, row: dict[str, Any]) -> dict[str, Any]:
    """Format one document's values (read as ``_name``) as the JSON API does, by column."""
    currency, issued_at, vat_rate = row["_currency"], row["_issued_at"], row["_vat_rate"]
    return {
        "document_type": document_type,
        "number": row["_number"],
        "series": row["_series"],
        "sequence": row["_sequence"],
        "issued_at_utc": utc_iso(issued_at),
        "issued_at_local": local_iso(issued_at, row["_time_zone"]),
        "time_zone": row["_time_zone"],
        "member_id": row["_member_id"],
        "billing_name": spreadsheet_safe(row["_billing_name"]),
        "invoice_number": row["_invoice_number"],
        "currency": currency,
        "net": money.format_amount(row["_net"], currency),
        "vat_rate": "" if vat_rate is None else money.format_vat_rate(vat_rate),
        "vat": money.format_amount(row["_vat"], currency),
        "total": money.format_amount(row["_total"], currency),
        "hash": row["_hash"],
        "charge_kind": row["_charge_kind"],
    }


def _aliased(values: dict[str, F]) -> dict[str, F]:
    """Read each value as ``_name``: ``values()`` refuses an alias that is a field's own name."""
    return {f"_{name}": expression for name, expression in values.items()}
