"""The FEC, parsed back and checked the way the tax administration's test tool checks it."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from billing.accounting import fec
from billing.models import CreditNote, Invoice
from tests.books import CLEANING, FINE, PARKING, credit_at, invoice_at
from tests.conftest import client_for, staff
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

FIELDS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)  # fmt: skip
AMOUNT = re.compile(r"[0-9]+,[0-9]{2}")
DATE = re.compile(r"[0-9]{8}")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def parse(data: bytes) -> list[dict[str, str]]:
    """Read a FEC as the test tool does: ISO 8859-15, CR LF records, tab-separated fields."""
    text = data.decode("iso-8859-15")
    assert text.endswith("\r\n")
    records = text[: -len("\r\n")].split("\r\n")
    assert all("\r" not in record and "\n" not in record for record in records)
    header, *rows = (record.split("\t") for record in records)
    assert tuple(header) == FIELDS, "the 18 fields, named, in the legal order"
    assert all(len(row) == len(FIELDS) for row in rows), "18 fields in every record"
    return [dict(zip(FIELDS, row, strict=True)) for row in rows]


def problems(rows: list[dict[str, str]], *, first: date, last: date) -> list[str]:
    """Return what the test tool would report: format, balance, numbering, dates."""
    found = []
    debit = credit = Decimal(0)
    per_entry: dict[str, Decimal] = defaultdict(Decimal)
    numbers: dict[str, list[int]] = defaultdict(list)
    previous_date = ""
    for index, row in enumerate(rows, start=2):
        where = f"record {index} ({row['EcritureNum']})"
        for name in ("JournalCode", "JournalLib", "EcritureNum", "CompteNum", "CompteLib",
                     "PieceRef", "EcritureLib"):  # fmt: skip
            if not row[name].strip():
                found.append(f"{where}: {name} is empty")
        if not re.fullmatch(r"[0-9]{3}.*", row["CompteNum"]):
            found.append(f"{where}: CompteNum does not start with three digits")
        for name in ("EcritureDate", "PieceDate", "ValidDate"):
            value = row[name]
            try:
                day = date.fromisoformat(value)
            except ValueError:
                found.append(f"{where}: {name} {value!r} is not YYYYMMDD")
                continue
            if not DATE.fullmatch(value) or (name != "ValidDate" and not first <= day <= last):
                found.append(f"{where}: {name} {value} is outside the fiscal year")
        if row["ValidDate"] < row["EcritureDate"]:
            found.append(f"{where}: validated before its date")
        if row["EcritureDate"] < previous_date:
            found.append(f"{where}: not in chronological order")
        previous_date = row["EcritureDate"]
        for name in ("Debit", "Credit"):
            if not AMOUNT.fullmatch(row[name]):
                found.append(f"{where}: {name} {row[name]!r} is not an amount with a comma")
        if row["Montantdevise"] or row["Idevise"]:
            found.append(f"{where}: a foreign-currency amount")
        amount_in = Decimal(row["Debit"].replace(",", "."))
        amount_out = Decimal(row["Credit"].replace(",", "."))
        debit, credit = debit + amount_in, credit + amount_out
        per_entry[row["EcritureNum"]] += amount_in - amount_out
        number = int(row["EcritureNum"].rsplit("-", 1)[1])
        journal_numbers = numbers[row["JournalCode"]]
        if not journal_numbers or journal_numbers[-1] != number:
            journal_numbers.append(number)
    found += [f"entry {num} does not balance ({gap})" for num, gap in per_entry.items() if gap]
    if debit != credit:
        found.append(f"the file does not balance: debit {debit}, credit {credit}")
    for code, seen in numbers.items():
        if seen != list(range(1, len(seen) + 1)):
            found.append(f"journal {code}: numbers {seen} are not continuous from 1")
    return found


@pytest.fixture
def books(db_clock):
    """A fiscal year in Paris and Lyon, with its neighbours' documents on either side."""
    alice, bob = UserFactory(), UserFactory()
    paris, lyon = {"prefix": "PAR"}, {"prefix": "LYO"}
    documents = [
        invoice_at(db_clock, at("2025-12-31T22:59:00Z"), alice.pk),  # 2025 in Paris
        invoice_at(db_clock, at("2025-12-31T23:00:00Z"), alice.pk),  # 1 January 2026
        invoice_at(
            db_clock,
            at("2026-03-29T01:30:00Z"),
            bob.pk,
            lines=(CLEANING, FINE),
            billing_name="Zoë\tDvořák\nSAS 🚗",
            **paris,
        ),
        invoice_at(db_clock, at("2026-06-01T10:00:00Z"), alice.pk, lines=(PARKING,), **lyon),
        invoice_at(db_clock, at("2026-10-25T01:30:00Z"), alice.pk, lines=(CLEANING, PARKING)),
    ]
    documents += [
        credit_at(db_clock, at("2026-11-02T09:00:00Z"), documents[2], "30.00", alice.pk),
        credit_at(db_clock, at("2026-12-31T22:00:00Z"), documents[4], "5.00", alice.pk),
        invoice_at(db_clock, at("2026-12-31T23:30:00Z"), alice.pk),  # 2027 in Paris
    ]
    return documents


def fec_of(client, year: int = 2026):
    response = client.get(f"/api/accounting/fec/?fiscal_year={year}")
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content)


def test_the_fec_passes_the_test_tools_checks_and_holds_every_document_of_the_year(books):
    response, data = fec_of(client_for(staff("auditor")))

    assert response["Content-Disposition"] == 'attachment; filename="123456782FEC20261231.txt"'
    assert response["Content-Type"] == "text/plain; charset=iso-8859-15"
    rows = parse(data)
    assert problems(rows, first=date(2026, 1, 1), last=date(2026, 12, 31)) == []
    in_2026 = {document.number for document in books[1:-1]}
    assert {row["PieceRef"] for row in rows} == in_2026
    assert {row["JournalCode"] for row in rows} == {"VEPAR", "VELYO", "AVPAR"}
    # 1 January 00:00 in Paris is the first entry of the year, dated in the local calendar.
    assert (rows[0]["EcritureNum"], rows[0]["EcritureDate"]) == ("VEPAR-2026-000001", "20260101")
    bob = next(row for row in rows if row["CompAuxLib"].startswith("Zo"))
    # One field whatever the name holds; characters ISO 8859-15 lacks lose accents, or go.
    assert bob["CompAuxLib"] == "Zoë Dvorák SAS ?"
    assert (bob["CompteNum"], bob["CompAuxNum"]) == ("411", f"411{books[2].member_id:07d}")
    assert all(row["CompAuxNum"] == "" for row in rows if row["CompteNum"] != "411")


def test_the_test_tool_checks_would_catch_a_missing_line_and_a_broken_sequence(books):
    _, data = fec_of(client_for(staff("finance")))
    rows = parse(data)

    without_second_entry = [row for row in rows if row["EcritureNum"] != "VEPAR-2026-000002"]
    one_line_short = rows[:1] + rows[2:]

    assert problems(without_second_entry, first=date(2026, 1, 1), last=date(2026, 12, 31)) == [
        "journal VEPAR: numbers [1, 3] are not continuous from 1"
    ]
    assert any(
        "does not balance" in problem
        for problem in problems(one_line_short, first=date(2026, 1, 1), last=date(2026, 12, 31))
    )


def test_the_fec_of_the_next_year_starts_its_journals_at_1(books):
    rows = parse(fec_of(client_for(staff("finance")), 2027)[1])

    assert [(row["EcritureNum"], row["PieceRef"]) for row in rows][:1] == [
        ("VEPAR-2027-000001", books[-1].number)
    ]
    assert problems(rows, first=date(2027, 1, 1), last=date(2027, 12, 31)) == []


def test_the_command_writes_the_same_file_under_its_legal_name(books, tmp_path: Path):
    _, data = fec_of(client_for(staff("finance")))
    out = io.StringIO()

    call_command("export_fec", "--fiscal-year", "2026", "--directory", str(tmp_path), stdout=out)

    written = tmp_path / "123456782FEC20261231.txt"
    assert written.read_bytes() == data
    assert out.getvalue().strip() == (
        f"{len(parse(data))} records of fiscal year 2026 written to {written}."
    )
    assert [path.name for path in tmp_path.iterdir()] == [written.name]


def test_the_fec_is_named_after_the_sellers_siren_and_the_last_day_of_the_fiscal_year(settings):
    settings.BILLING = {
        **settings.BILLING,
        "SELLER_SIREN": "552100554",
        "FISCAL_YEAR_START_MONTH": 7,
    }

    assert fec.filename(2027) == "552100554FEC20270630.txt"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("", 400, "fiscal_year"),
        ("?fiscal_year=twenty", 400, "fiscal_year"),
        ("?fiscal_year=1899", 400, "fiscal_year"),
        ("?fiscal_year=2026&year=2026", 400, "year"),
    ],
)
def test_a_malformed_query_is_refused(db, query, status, field):
    response = client_for(staff("finance")).get(f"/api/accounting/fec/{query}")

    assert response.status_code == status
    assert field in response.json()


def test_entries_in_another_currency_are_refused_rather_than_written_without_a_rate(db_clock):
    new_york = {"prefix": "NYC", "time_zone": "America/New_York", "currency": "USD"}
    invoice_at(db_clock, at("2026-06-01T10:00:00Z"), UserFactory().pk, **new_york)

    response = client_for(staff("finance")).get("/api/accounting/fec/?fiscal_year=2026")

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["currencies"]) == (
        "fec_foreign_currency",
        ["USD"],
    )
    with pytest.raises(CommandError, match="entries in USD"):
        call_command("export_fec", "--fiscal-year", "2026", "--to-stdout")


def test_members_may_not_read_the_fec(db):
    member = MemberFactory()

    assert client_for(member.user).get("/api/accounting/fec/?fiscal_year=2026").status_code == 403
    assert client_for(None).get("/api/accounting/fec/?fiscal_year=2026").status_code == 401


def test_an_empty_year_is_a_header_alone(db):
    _, data = fec_of(client_for(staff("auditor")), 2030)

    assert data == ("\t".join(FIELDS) + "\r\n").encode("ascii")
    assert not Invoice.objects.exists() and not CreditNote.objects.exists()


def test_the_command_can_write_the_file_to_stdout(books, capsysbinary):
    _, data = fec_of(client_for(staff("finance")))

    call_command("export_fec", "--fiscal-year", "2026", "--to-stdout")

    captured = capsysbinary.readouterr()
    assert captured.out == data
    assert captured.err.decode().strip().endswith(f"{len(parse(data))} records exported.")


def test_the_fec_streams_its_records_from_a_chunked_cursor(books, monkeypatch):
    from django.db import connection

    opened = []
    real = connection.chunked_cursor
    monkeypatch.setattr(connection, "chunked_cursor", lambda: opened.append(1) or real())

    response, data = fec_of(client_for(staff("finance")))

    # A streamed body read a chunk of rows at a time (a server-side cursor on PostgreSQL),
    # never a list of the year's lines.
    assert response.streaming
    assert opened == [1]
    assert len(parse(data)) == 24
