"""Finance's CSV export: the API, its period and series, its amounts, and the command."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from billing import exports, invoicing, numbering
from billing.models import CreditNote, Invoice
from core import clock as core_clock
from core.transactions import run_in_transaction
from tests.factories import UserFactory
from tests.invoices import charge

pytestmark = pytest.mark.django_db

# March 2026 in Paris, half-open: [1 March 00:00 CET, 1 April 00:00 CEST).
FROM = "2026-03-01T00:00:00+01:00"
TO = "2026-04-01T00:00:00+02:00"
FROM_AT = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
TO_AT = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
MID_MARCH = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
PERIOD = {"issued_from": FROM, "issued_to": TO}


class Clock:
    """The database clock invoices are dated by, pinned by the test."""

    def __init__(self) -> None:
        self.now = FROM_AT

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    pinned = Clock()
    monkeypatch.setattr(core_clock, "read_database_clock", pinned)
    return pinned


_subjects = iter(range(1, 10_000))


def issue_at(clock, at, *, prefix="PAR", billing_name="Alice Martin", minutes=20, user=None):
    clock.now = at
    user = user or UserFactory()
    return run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name=billing_name, billing_address="Paris"
            ),
            charge=charge(minutes),
            series=numbering.SeriesRule(prefix=prefix),
            subject_kind="test",
            subject_id=next(_subjects),
        )
    )


def credit_at(clock, at, invoice, amount="1.00"):
    clock.now = at
    return invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal(amount),
        reason="goodwill",
        issued_by_id=invoice.member_id,
    )


@pytest.fixture
def documents(clock):
    """Invoices around both bounds of March, one in Lyon, and a credit note in March."""
    made = {
        "before": issue_at(clock, FROM_AT - timedelta(microseconds=1)),
        "at_from": issue_at(clock, FROM_AT),
        "mid": issue_at(clock, MID_MARCH, minutes=30),
        "lyon": issue_at(clock, MID_MARCH + timedelta(hours=1), prefix="LYO"),
        "at_to": issue_at(clock, TO_AT),
    }
    made["credit"] = credit_at(clock, MID_MARCH + timedelta(days=5), made["mid"], "2.50")
    return made


def csv_of(response):
    assert response.status_code == 200, response.content
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def by_number(rows):
    header, *body = rows
    return {row[1]: dict(zip(header, row, strict=True)) for row in body}


def test_finance_gets_a_csv_with_the_header_first_then_invoices_then_credit_notes(
    finance_client, documents
):
    response = finance_client.get("/api/invoices/export/", PERIOD)

    rows = csv_of(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert tuple(rows[0]) == exports.COLUMNS
    assert [row[1] for row in rows[1:]] == [
        documents["lyon"].number,
        documents["at_from"].number,
        documents["mid"].number,
        documents["credit"].number,
    ]
    assert [row[0] for row in rows[1:]] == ["invoice"] * 3 + ["credit_note"]


def test_the_period_includes_an_invoice_issued_at_issued_from_and_excludes_one_at_issued_to(
    finance_client, documents
):
    numbers = by_number(csv_of(finance_client.get("/api/invoices/export/", PERIOD)))

    assert documents["at_from"].number in numbers
    assert documents["at_to"].number not in numbers
    assert documents["before"].number not in numbers


def test_the_series_filter_keeps_the_series_and_its_credit_notes(finance_client, documents):
    rows = csv_of(finance_client.get("/api/invoices/export/", {**PERIOD, "series": "PAR-2026"}))

    assert [row[1] for row in rows[1:]] == [
        documents["at_from"].number,
        documents["mid"].number,
        documents["credit"].number,
    ]
    assert {row[2] for row in rows[1:]} == {"PAR-2026", "AV-PAR-2026"}


def test_a_credit_note_series_alone_gives_only_its_credit_notes(finance_client, documents):
    rows = csv_of(finance_client.get("/api/invoices/export/", {"series": "AV-PAR-2026"}))

    assert [row[1] for row in rows[1:]] == [documents["credit"].number]


def test_amounts_are_strings_with_the_currency_decimals_and_instants_utc_and_local(
    finance_client, documents
):
    numbers = by_number(csv_of(finance_client.get("/api/invoices/export/", PERIOD)))

    mid, credit = documents["mid"], documents["credit"]
    # 30 day minutes at 0.35 = 10.50, plus 1.00: 11.50 including 20 % VAT.
    assert numbers[mid.number] | {"hash": ""} == {
        "document_type": "invoice",
        "number": mid.number,
        "series": "PAR-2026",
        "sequence": "3",
        "issued_at_utc": "2026-03-15T10:00:00Z",
        "issued_at_local": "2026-03-15T11:00:00+01:00",
        "time_zone": "Europe/Paris",
        "member_id": str(mid.member_id),
        "billing_name": "Alice Martin",
        "invoice_number": mid.number,
        "currency": "EUR",
        "net": "9.58",
        "vat_rate": "0.20",
        "vat": "1.92",
        "total": "11.50",
        "hash": "",
        "charge_kind": "test",
    }
    assert numbers[mid.number]["hash"] == mid.hash
    note = numbers[credit.number]
    assert (note["invoice_number"], note["member_id"], note["time_zone"]) == (
        mid.number,
        str(mid.member_id),
        "Europe/Paris",
    )
    assert (note["net"], note["vat"], note["total"]) == ("2.08", "0.42", "2.50")
    assert note["charge_kind"] == "test"  # the credited invoice's kind of charge
    assert note["issued_at_local"] == "2026-03-20T11:00:00+01:00"


def test_the_kind_of_charge_is_a_last_column_after_the_columns_exports_always_had(
    finance_client, documents
):
    text = b"".join(finance_client.get("/api/invoices/export/", PERIOD).streaming_content).decode()
    header, *lines = text.split("\r\n")

    mid = documents["mid"]
    assert header == (
        "document_type,number,series,sequence,issued_at_utc,issued_at_local,time_zone,"
        "member_id,billing_name,invoice_number,currency,net,vat_rate,vat,total,hash,charge_kind"
    )
    # The bytes of the columns exports always had, then the new one.
    assert (
        f"invoice,{mid.number},PAR-2026,3,2026-03-15T10:00:00Z,2026-03-15T11:00:00+01:00,"
        f"Europe/Paris,{mid.member_id},Alice Martin,{mid.number},EUR,9.58,0.20,1.92,11.50,"
        f"{mid.hash},test"
    ) in lines


def test_the_csv_parses_back_to_the_same_count_and_sum_as_the_database(finance_client, documents):
    rows = csv_of(finance_client.get("/api/invoices/export/"))

    body = rows[1:]
    assert len(body) == Invoice.objects.count() + CreditNote.objects.count()
    invoiced = sum(Decimal(row[14]) for row in body if row[0] == "invoice")
    credited = sum(Decimal(row[14]) for row in body if row[0] == "credit_note")
    assert invoiced == Invoice.objects.aggregate(total=Sum("total"))["total"]
    assert credited == CreditNote.objects.aggregate(total=Sum("total"))["total"]


def test_names_with_commas_quotes_and_newlines_survive_the_round_trip(finance_client, clock):
    name = 'Martin, "Alice"\nSAS =1+1'
    invoice = issue_at(clock, MID_MARCH, billing_name=name)

    rows = csv_of(finance_client.get("/api/invoices/export/"))

    assert len(rows) == 2
    assert by_number(rows)[invoice.number]["billing_name"] == name


def test_the_content_disposition_names_the_period(finance_client, documents):
    response = finance_client.get("/api/invoices/export/", PERIOD)

    assert response["Content-Disposition"] == (
        'attachment; filename="invoices_2026-03-01_2026-04-01.csv"'
    )


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"HTTP_ACCEPT": "text/csv"}, {}),
        ({"HTTP_ACCEPT": "application/json"}, {}),
        ({}, {"format": "csv"}),
    ],
    ids=["accept-text-csv", "accept-json", "format-csv"],
)
def test_the_export_is_csv_for_a_client_accepting_csv_or_json(
    finance_client, documents, headers, query
):
    response = finance_client.get("/api/invoices/export/", {**PERIOD, **query}, **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(csv_of(response)) == 5


def test_empty_query_values_mean_no_filter(finance_client, documents):
    rows = csv_of(
        finance_client.get(
            "/api/invoices/export/?issued_from=&issued_to=&series=", HTTP_ACCEPT="*/*"
        )
    )

    assert len(rows) == 1 + 5 + 1


@pytest.mark.parametrize(
    ("client_name", "status"),
    [
        ("anonymous_client", 401),
        ("member_client", 403),
        ("auditor_client", 403),
        ("fleet_client", 403),
    ],
)
def test_only_finance_may_export(request, client_name, status):
    client = request.getfixturevalue(client_name)

    response = client.get("/api/invoices/export/", PERIOD, HTTP_ACCEPT="text/csv")

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"issued_from": "2026-03-01T00:00:00"}, "issued_from"),
        ({"issued_to": "2026-04-01"}, "issued_to"),
        ({"issued_from": "yesterday"}, "issued_from"),
        ({"issued_from": TO, "issued_to": FROM}, "issued_to"),
        ({"issued_from": FROM, "issued_to": FROM}, "issued_to"),
        ({"series": "X" * 35}, "series"),
        ({"isued_from": FROM}, "isued_from"),
    ],
    ids=[
        "no-offset",
        "a-date-only",
        "not-a-date",
        "from-after-to",
        "empty-period",
        "long-series",
        "misspelt-parameter",
    ],
)
def test_bad_query_parameters_are_refused_with_400_naming_the_parameter(
    finance_client, query, field
):
    response = finance_client.get("/api/invoices/export/", query, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


@pytest.mark.parametrize(
    ("issued_from", "issued_to", "series", "name"),
    [
        (None, None, None, "invoices_all.csv"),
        (FROM_AT, None, None, "invoices_from_2026-02-28T2300.csv"),
        (None, TO_AT, "PAR-2026", "invoices_PAR-2026_until_2026-03-31T2200.csv"),
        (
            datetime.fromisoformat(FROM),
            datetime.fromisoformat(TO),
            '../"evil"',
            "invoices_evil_2026-03-01_2026-04-01.csv",
        ),
    ],
    ids=["everything", "from-only", "until-with-series", "unsafe-series"],
)
def test_export_filename_names_the_series_and_period(issued_from, issued_to, series, name):
    assert exports.export_filename(issued_from, issued_to, series) == name


def test_the_command_writes_the_same_csv_as_the_api(finance_client, documents, tmp_path):
    target = tmp_path / "march.csv"
    out = io.StringIO()

    call_command("export_invoices", "--from", FROM, "--to", TO, "--output", str(target), stdout=out)

    api = b"".join(finance_client.get("/api/invoices/export/", PERIOD).streaming_content)
    assert target.read_bytes() == api
    assert "4 documents exported" in out.getvalue()
    assert not (tmp_path / "march.csv.partial").exists()


def test_the_command_writes_to_stdout_with_output_dash_and_shows_no_progress_off_a_terminal(
    documents,
):
    out, err = io.StringIO(), io.StringIO()

    call_command("export_invoices", "--series", "LYO-2026", "--output", "-", stdout=out, stderr=err)

    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert [row[1] for row in rows[1:]] == [documents["lyon"].number]
    assert err.getvalue() == "1 documents exported.\n"


@pytest.mark.parametrize(
    "arguments",
    [
        ["--from", "2026-03-01T00:00", "--output", "-"],
        ["--from", TO, "--to", FROM, "--output", "-"],
    ],
    ids=["no-offset", "from-after-to"],
)
def test_the_command_refuses_a_bad_period(arguments):
    with pytest.raises(CommandError):
        call_command("export_invoices", *arguments, stdout=io.StringIO())


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_command_shows_progress_in_place_on_a_terminal(documents, tmp_path):
    err = Terminal()

    call_command(
        "export_invoices", "--output", str(tmp_path / "all.csv"), stdout=io.StringIO(), stderr=err
    )

    assert err.getvalue().startswith("\r")
    last = err.getvalue().rsplit("\r", 1)[1]
    assert last.startswith("6 documents written, ") and last.endswith("/s\n")


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx"])
def test_a_billing_name_that_looks_like_a_formula_is_exported_as_text(name):
    from billing.exports import spreadsheet_safe

    assert spreadsheet_safe(name) == "'" + name
    assert spreadsheet_safe("Alice =Martin") == "Alice =Martin"


@pytest.mark.django_db
def test_the_export_quotes_a_formula_in_a_billing_name(finance_client):
    from tests.factories import UserFactory
    from tests.invoices import issue

    issue(UserFactory().pk, billing_name="=1+1")

    header, *rows = csv_of(finance_client.get("/api/invoices/export/"))

    assert [row[header.index("billing_name")] for row in rows] == ["'=1+1"]
