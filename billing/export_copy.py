"""The finance export at the speed of PostgreSQL's COPY: the same bytes as ``billing.exports``.

PostgreSQL formats every value itself (``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)``):
instants in UTC with ``Z`` and in the document's zone with its offset, as Python's
``isoformat`` writes them (no fraction when the microseconds are zero); amounts with the
currency's decimals; VAT rates with two decimals at least; billing names that a spreadsheet
would run as formulas quoted with an apostrophe. One COPY per series, in series order, with
the session's time zone set to the series' zone: ``to_char`` then writes local times and
their offsets in one call (a document in another zone, which a series never holds, takes the
slower general expression). The whole export reads one snapshot (a read-only REPEATABLE READ
transaction): every series as of one instant, whatever is issued meanwhile.

It quotes fields exactly as Python's ``csv`` module does (a delimiter, a quote, a CR or an
LF makes a field quoted; quotes are doubled), once empty strings are sent as NULL (COPY
quotes an empty string to tell it from NULL; ``csv`` does not). What is left for Python is
one thin pass over COPY's rows: rows end with ``\\n`` there and ``\\r\\n`` in ``csv``, so
each chunk's row ends (never the line breaks inside quoted fields) get their ``\\r``.

``tests/postgres/test_export_copy.py`` holds the bytes of both paths equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from django.db import connection, transaction

from billing import money, numbering
from billing.models import CreditNote, Invoice

CHUNK_BYTES: Final = 64 * 1024
_MINOR_UNITS: Final = ", ".join(
    f"('{code}', {exponent})" for code, exponent in sorted(money.MINOR_UNITS.items())
)


def _utc(column: str) -> str:
    """An instant as ``utc_iso`` writes it: ``2026-11-28T12:07:12.685419Z``."""
    at_utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN mod(extract(microseconds FROM {column})::bigint, 1000000) = 0"
        f' THEN to_char({at_utc}, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\')'
        f' ELSE to_char({at_utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END'
    )


def _local(column: str, zone: str, session_zone: str) -> str:
    """An instant as ``local_iso`` writes it: ``2026-11-28T13:07:12.685419+01:00``.

    In ``session_zone`` (the session's ``TimeZone``), ``to_char`` does it all; elsewhere the
    offset is computed. Offsets are whole minutes for every instant dated since 1972, so
    ``TZH:TZM`` says all of them.
    """
    at_zone = f"({column} AT TIME ZONE {zone})"
    offset = f"extract(epoch FROM {at_zone} - ({column} AT TIME ZONE 'UTC'))::integer"
    whole = f"mod(extract(microseconds FROM {column})::bigint, 1000000) = 0"
    general = (
        f"to_char({at_zone}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN {whole} THEN '' ELSE '.' || to_char({at_zone}, 'US') END"
        f" || CASE WHEN {offset} < 0 THEN '-' ELSE '+' END"
        f" || lpad((abs({offset}) / 3600)::text, 2, '0')"
        f" || ':' || lpad((mod(abs({offset}), 3600) / 60)::text, 2, '0')"
        f" || CASE WHEN mod(abs({offset}), 60) = 0 THEN ''"
        f" ELSE ':' || lpad(mod(abs({offset}), 60)::text, 2, '0') END"
    )
    return (
        f"CASE WHEN {zone} = {session_zone} THEN"
        f" CASE WHEN {whole} THEN to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"
        f" ELSE to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM') END"
        f" ELSE {general} END"
    )


def _amount(column: str) -> str:
    """An amount as ``money.format_amount``: half-up to the currency's minor unit."""
    return f"round({column}, minor.exponent)::text"


def _vat_rate(column: str) -> str:
    """A VAT rate as ``money.format_vat_rate``: two decimals at least, more when it has them.

    Stored with four decimals (``0.2000``): its last two digits go when they are zeros, the
    last one when it alone is.
    """
    text = f"{column}::text"
    return (
        f"CASE WHEN right({text}, 2) = '00' THEN left({text}, -2)"
        f" WHEN right({text}, 1) = '0' THEN left({text}, -1) ELSE {text} END"
    )


def _safe(column: str) -> str:
    """A billing name as ``exports.spreadsheet_safe`` writes it; empty as NULL (see above)."""
    return (
        f"NULLIF(CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r')"
        f" THEN '''' || {column} ELSE {column} END, '')"
    )


def _select(document_type: str, document: str, invoice: str) -> str:
    """The columns of ``exports.COLUMNS`` for a document row and the invoice it names."""
    return ", ".join(
        [
            f"'{document_type}'",
            f"{document}.number",
            f"{document}.series",
            f"{document}.sequence",
            _utc(f"{document}.issued_at"),
            _local(f"{document}.issued_at", f"{invoice}.time_zone", "%(zone)s"),
            f"{invoice}.time_zone",
            f"{invoice}.member_id",
            _safe(f"{invoice}.billing_name"),
            f"{invoice}.number",
            f"{document}.currency",
            _amount(f"{document}.net"),
            _vat_rate(f"{document}.vat_rate"),
            _amount(f"{document}.vat"),
            _amount(f"{document}.total"),
            f"{document}.hash",
            f"{invoice}.subject_kind",
        ]
    )


# The series of a table, without reading its rows: a loose scan of the (series, sequence)
# index, one lookup per series.
_SERIES = """
WITH RECURSIVE found(series) AS (
    SELECT min(series) FROM {table}
    UNION ALL
    SELECT (SELECT min(series) FROM {table} WHERE series > found.series)
    FROM found WHERE found.series IS NOT NULL
)
SELECT series FROM found WHERE series IS NOT NULL
"""


def copy_chunks(
    header: bytes,
    *,
    issued_from: datetime | None,
    issued_to: datetime | None,
    series: str | None,
    counter: list[int] | None = None,
) -> Iterator[bytes]:
    """Yield the export's bytes in chunks of about ``CHUNK_BYTES``: ``header``, then the rows.

    Invoices first, then credit notes, each by series then number, as ``exports``.
    ``counter``, if given, receives the number of documents written so far (its first item).
    """
    yield header
    joined = connection.in_atomic_block  # a caller's transaction (a test's) keeps its own
    # A read, not a use case: one snapshot for the whole file, never a write.
    with transaction.atomic(), connection.cursor() as cursor:
        if not joined:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # Compiling these expressions costs more than it saves on a streamed scan.
        cursor.execute("SELECT set_config('jit', 'off', true)")
        cursor.execute("SELECT current_setting('TimeZone')")
        (session_zone,) = cursor.fetchone()
        yield from _rows(cursor, issued_from, issued_to, series, counter)
        # Django reads dates in the session's zone it set: give it back (a joined caller's
        # transaction goes on after this).
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [session_zone])


def _rows(
    cursor: Any,
    issued_from: datetime | None,
    issued_to: datetime | None,
    series: str | None,
    counter: list[int] | None,
) -> Iterator[bytes]:
    for kind in ("invoice", "credit_note"):
        for name, zone in _series(cursor, kind, series):
            statement, params = _statement(kind, issued_from, issued_to)
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone])
            with cursor.cursor.copy(statement, {**params, "series": name, "zone": zone}) as copy:
                rows: list[bytes] = []
                size = 0
                for row in copy:  # libpq hands COPY's output over one row at a time
                    rows.append(bytes(row))
                    size += len(row)
                    if size >= CHUNK_BYTES:
                        yield _crlf(rows, counter)
                        rows, size = [], 0
                if rows:
                    yield _crlf(rows, counter)


def _series(cursor: Any, kind: str, series: str | None) -> list[tuple[str, str]]:
    """Return the series of ``kind`` to export, in order, each with its documents' zone."""
    invoice_table = connection.ops.quote_name(Invoice._meta.db_table)
    note_table = connection.ops.quote_name(CreditNote._meta.db_table)
    if series is not None:
        # An invoice series brings its credit notes along, as in ``exports``.
        names = (
            [series]
            if kind == "invoice"
            else sorted({series, numbering.credit_note_series(series)})
        )
    else:
        cursor.execute(_SERIES.format(table=invoice_table if kind == "invoice" else note_table))
        names = [name for (name,) in cursor.fetchall()]
    found = []
    for name in names:
        if kind == "invoice":
            cursor.execute(
                f"SELECT time_zone FROM {invoice_table} WHERE series = %s"  # noqa: S608
                " ORDER BY sequence LIMIT 1",
                [name],
            )
        else:
            cursor.execute(
                f"SELECT i.time_zone FROM {note_table} AS n JOIN {invoice_table} AS i"  # noqa: S608
                " ON i.id = n.invoice_id WHERE n.series = %s ORDER BY n.sequence LIMIT 1",
                [name],
            )
        row = cursor.fetchone()
        if row is not None:
            found.append((name, row[0]))
    return found


def _statement(
    kind: str, issued_from: datetime | None, issued_to: datetime | None
) -> tuple[str, dict[str, Any]]:
    """The COPY of one series of ``kind`` in ``[issued_from, issued_to)``, and its parameters."""
    invoice_table = connection.ops.quote_name(Invoice._meta.db_table)
    note_table = connection.ops.quote_name(CreditNote._meta.db_table)
    if kind == "invoice":
        source, invoice = f"{invoice_table} AS d", "d"
    else:
        source, invoice = f"{note_table} AS d JOIN {invoice_table} AS i ON i.id = d.invoice_id", "i"
    conditions, params = ["d.series = %(series)s"], {}
    if issued_from is not None:
        conditions.append("d.issued_at >= %(issued_from)s")
        params["issued_from"] = issued_from
    if issued_to is not None:
        conditions.append("d.issued_at < %(issued_to)s")
        params["issued_to"] = issued_to
    # Only fixed SQL and the models' own table names are formatted in; values are
    # parameters, merged by psycopg.
    statement = (
        f"COPY (SELECT {_select(kind, 'd', invoice)}"  # noqa: S608
        f" FROM {source} JOIN (VALUES {_MINOR_UNITS}) AS minor(code, exponent)"
        f" ON minor.code = d.currency WHERE {' AND '.join(conditions)}"
        " ORDER BY d.sequence, d.id) TO STDOUT WITH (FORMAT csv)"
    )
    return statement, params


def _crlf(rows: list[bytes], counter: list[int] | None) -> bytes:
    """End each row with ``\\r\\n`` as ``csv`` does, leaving line breaks inside quoted fields."""
    if counter is not None:
        counter[0] += len(rows)
    chunk = b"".join(rows)
    if b'"' not in chunk:  # no quoted field: every line break ends a row
        return chunk.replace(b"\n", b"\r\n")
    # Whole rows start outside quotes, and a doubled quote toggles twice: the even pieces
    # between quotes are outside every quoted field.
    pieces = chunk.split(b'"')
    pieces[0::2] = [piece.replace(b"\n", b"\r\n") for piece in pieces[0::2]]
    return b'"'.join(pieces)
