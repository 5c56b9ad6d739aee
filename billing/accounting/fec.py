"""The FEC (fichier des écritures comptables) of a fiscal year, streamed in constant memory.

The format of article A47 A-1 of the Livre des procédures fiscales (BOI-CF-IOR-60-40-20):
a flat file, one record per entry line, the 18 fields below in this order, the first record
naming them; fields separated by a tab, records by CR LF; dates ``YYYYMMDD``; amounts in
the accounting currency with a decimal comma and no thousands separator, both ``Debit`` and
``Credit`` written (``0,00`` on the other side); characters in ISO 8859-15. The file is named
``{SIREN}FEC{YYYYMMDD}.txt`` after the fiscal year's last day.

Records come in the order the entries were validated, which is their date then their number
in each journal; every entry is validated when it is posted (it is never edited afterwards),
so ``ValidDate`` is its posting date. Nothing is lettered (``EcritureLet``, ``DateLet``
empty), and ``Montantdevise`` / ``Idevise`` stay empty because every entry is in the
accounting currency (another currency is refused rather than written without its rate).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

from django.conf import settings
from django.db.models import F

from billing import money
from billing.accounting import entries, journal, periods
from billing.accounting.models import JournalEntry, JournalLine
from core.errors import ConflictError, DomainError

COLUMNS: Final = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)  # fmt: skip
SEPARATOR: Final = "\t"
END_OF_RECORD: Final = "\r\n"
ENCODING: Final = "iso-8859-15"
CHUNK: Final = 2000
_BLANKS: Final = str.maketrans({"\t": " ", "\r": " ", "\n": " "})


class InvalidFiscalYear(DomainError):
    """The fiscal year is not a year the books can hold."""

    code = "invalid_fiscal_year"


class ForeignCurrencyEntries(ConflictError):
    """Entries of the fiscal year are in another currency than the books: no rate to convert."""

    code = "fec_foreign_currency"


def fiscal_year_dates(fiscal_year: int) -> tuple[dt.date, dt.date]:
    """Return the fiscal year's first and last local dates.

    Raises:
        InvalidFiscalYear: outside 1900..9998.
    """
    if not isinstance(fiscal_year, int) or not 1900 <= fiscal_year <= 9998:
        raise InvalidFiscalYear(
            f"{fiscal_year!r} is not a fiscal year (1900 to 9998).", field="fiscal_year"
        )
    start, end = entries.fiscal_year_bounds(
        fiscal_year, start_month=journal.fiscal_year_start_month()
    )
    return start, end - dt.timedelta(days=1)


def filename(fiscal_year: int) -> str:
    """Name the FEC of a fiscal year: ``{SIREN}FEC{YYYYMMDD}.txt`` (its last day).

    Raises:
        InvalidFiscalYear: as ``fiscal_year_dates``.
    """
    _, last = fiscal_year_dates(fiscal_year)
    return f"{settings.BILLING['SELLER_SIREN']}FEC{last:%Y%m%d}.txt"


def check_currency(fiscal_year: int) -> None:
    """Refuse a fiscal year holding entries outside the accounting currency.

    Raises:
        ForeignCurrencyEntries: naming the currencies found.
    """
    books = settings.BILLING["ACCOUNTING_CURRENCY"]
    others = sorted(
        JournalEntry.objects.filter(fiscal_year=fiscal_year)
        .exclude(currency=books)
        .values_list("currency", flat=True)
        .distinct()
    )
    if others:
        raise ForeignCurrencyEntries(
            f"Fiscal year {fiscal_year} has entries in {', '.join(others)}; the FEC is kept in"
            f" {books}, and no exchange rate is recorded to convert them.",
            currencies=others,
        )


def records(fiscal_year: int) -> Iterator[str]:
    """Return the FEC's records as text: the field names, then one record per entry line.

    Raises:
        InvalidFiscalYear, ForeignCurrencyEntries: at once, before any record is read.
    """
    fiscal_year_dates(fiscal_year)
    check_currency(fiscal_year)
    return _records(fiscal_year)


def _records(fiscal_year: int) -> Iterator[str]:
    yield SEPARATOR.join(COLUMNS) + END_OF_RECORD
    rows = (
        JournalLine.objects.filter(entry__fiscal_year=fiscal_year)
        .order_by("entry__entry_date", "entry__journal_code", "entry__number", "position")
        .values(
            "account",
            "account_label",
            "auxiliary_account",
            "auxiliary_label",
            "label",
            "debit",
            "credit",
            journal_code=F("entry__journal_code"),
            journal_label=F("entry__journal_label"),
            fiscal_year=F("entry__fiscal_year"),
            number=F("entry__number"),
            entry_date=F("entry__entry_date"),
            posted_at=F("entry__posted_at"),
            time_zone=F("entry__time_zone"),
            currency=F("entry__currency"),
            document_number=F("entry__document_number"),
        )
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        yield SEPARATOR.join(record(row)) + END_OF_RECORD


def record(row: dict[str, Any]) -> tuple[str, ...]:
    """Return the 18 fields of one entry line, in the legal order."""
    entry_date = row["entry_date"]
    return (
        text(row["journal_code"]),
        text(row["journal_label"]),
        entry_number(row["journal_code"], row["fiscal_year"], row["number"]),
        f"{entry_date:%Y%m%d}",
        text(row["account"]),
        text(row["account_label"]),
        text(row["auxiliary_account"]),
        text(row["auxiliary_label"]),
        text(row["document_number"]),
        f"{entry_date:%Y%m%d}",
        text(row["label"]),
        amount(row["debit"], row["currency"]),
        amount(row["credit"], row["currency"]),
        "",
        "",
        f"{periods.local_date(row['posted_at'], row['time_zone']):%Y%m%d}",
        "",
        "",
    )


def entry_number(journal_code: str, fiscal_year: int, number: int) -> str:
    """Format an entry's number, unique in the file and ordered: ``VEPAR-2026-000042``."""
    return f"{journal_code}-{fiscal_year}-{number:06d}"


def amount(value: Decimal, currency: str) -> str:
    """Format an amount the FEC way: the currency's decimals, a decimal comma (``1234,50``)."""
    return money.format_amount(value, currency).replace(".", ",")


def text(value: str) -> str:
    """Make a value one field: tabs and line breaks become spaces, edges are trimmed."""
    return value.translate(_BLANKS).strip()


def chunks(lines: Iterator[str], *, size: int = 64 * 1024) -> Iterator[bytes]:
    """Encode the records in ISO 8859-15 and join them into pieces of about ``size`` bytes."""
    pending: list[bytes] = []
    length = 0
    for line in lines:
        data = encode(line)
        pending.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(pending)
            pending.clear()
            length = 0
    if pending:
        yield b"".join(pending)


def encode(line: str) -> bytes:
    """Encode in ISO 8859-15; a character it lacks loses its accents, or becomes ``?``."""
    try:
        return line.encode(ENCODING)
    except UnicodeEncodeError:
        return "".join(_latin(character) for character in line).encode(ENCODING)


def _latin(character: str) -> str:
    try:
        character.encode(ENCODING)
    except UnicodeEncodeError:
        base = "".join(
            part
            for part in unicodedata.normalize("NFKD", character)
            if not unicodedata.combining(part)
        )
        try:
            base.encode(ENCODING)
        except UnicodeEncodeError:
            return "?"
        return base or "?"
    return character
