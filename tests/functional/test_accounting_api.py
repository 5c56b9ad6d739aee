"""E-reporting aggregates, closings and the accounts audit over HTTP, for finance and auditors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.accounting import closings, ereporting
from tests.books import CLEANING, FINE, PARKING, credit_at, invoice_at
from tests.conftest import client_for, staff
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def sales(db_clock):
    user = UserFactory()
    first = invoice_at(db_clock, at("2026-03-28T23:30:00Z"), user.pk, lines=(CLEANING, FINE))
    invoice_at(db_clock, at("2026-03-29T12:00:00Z"), user.pk, lines=(CLEANING, PARKING))
    credit_at(db_clock, at("2026-03-29T13:00:00Z"), first, "30.00", user.pk)
    invoice_at(db_clock, at("2026-03-29T22:30:00Z"), user.pk, lines=(PARKING,))  # the 30th
    return user


def test_b2c_sales_are_aggregated_per_local_day_and_vat_rate(sales):
    response = client_for(staff("finance")).get(
        "/api/accounting/e-reporting/?date_from=2026-03-29&date_to=2026-03-31"
    )

    assert response.status_code == 200
    assert response.json() == [
        # Two invoices at 20 % (25.00 each), less 12.50 of a credit of 30.00 shared over
        # 25.00 at 20 % and 35.00 outside VAT: 20.83 + 20.83 - 10.42 net.
        {"date": "2026-03-29", "currency": "EUR", "vat_rate": "0.20", "net": "31.24",
         "vat": "6.26", "transactions": 3},
        {"date": "2026-03-29", "currency": "EUR", "vat_rate": "0.10", "net": "10.00",
         "vat": "1.00", "transactions": 1},
        # The fine passed through is no sale: outside the scope of VAT, it is not reported.
        {"date": "2026-03-30", "currency": "EUR", "vat_rate": "0.10", "net": "10.00",
         "vat": "1.00", "transactions": 1},
    ]  # fmt: skip


def test_the_same_aggregates_come_as_csv(sales):
    response = client_for(staff("auditor")).get(
        "/api/accounting/e-reporting/export/?date_from=2026-03-29&date_to=2026-03-30"
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="e-reporting_2026-03-29_2026-03-30.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["date"], row["vat_rate"], row["net"], row["transactions"]) for row in rows] == [
        ("2026-03-29", "0.20", "31.24", "3"),
        ("2026-03-29", "0.10", "10.00", "1"),
    ]


def test_business_customers_invoices_and_their_credit_notes_are_left_out(sales, db_clock):
    company = UserFactory()
    business = invoice_at(
        db_clock, at("2026-03-29T14:00:00Z"), company.pk, lines=(CLEANING,), siren="552100554"
    )
    credit_at(db_clock, at("2026-03-29T15:00:00Z"), business, "5.00", company.pk)

    aggregates = ereporting.daily_aggregates(
        date_from=datetime(2026, 3, 29).date(), date_to=datetime(2026, 3, 30).date()
    )

    # The same as without the business customer: they go to the administration as e-invoices.
    assert [(row.vat_rate, row.net, row.transactions) for row in aggregates] == [
        (Decimal("0.20"), Decimal("31.24"), 3),
        (Decimal("0.10"), Decimal("10.00"), 1),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=2026-03-29", "date_to"),
        ("date_from=2026-03-29&date_to=2026-03-29", "date_to"),
        ("date_from=2026-01-01&date_to=2027-01-03", "date_to"),
        ("date_from=2026-03-29T00:00&date_to=2026-03-30", "date_from"),
        ("date_from=2026-03-29&date_to=2026-03-30&vat=0.20", "vat"),
    ],
    ids=["missing-end", "empty", "over-a-year", "an-instant-not-a-date", "unknown-parameter"],
)
def test_a_malformed_period_is_refused(db, query, field):
    response = client_for(staff("finance")).get(f"/api/accounting/e-reporting/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert field in body or body.get("field") == field, body


def test_closings_are_listed_latest_period_first_for_auditors(sales, db_clock):
    db_clock.now = at("2026-03-31T00:00:00Z")
    closings.close_due_periods(now=db_clock.now)

    response = client_for(staff("auditor")).get("/api/accounting/closings/?kind=DAY")

    assert response.status_code == 200
    days = response.json()["results"]
    assert [(d["start_date"], d["document_count"], d["total"]) for d in days] == [
        ("2026-03-30", 1, "11.00"),
        ("2026-03-29", 3, "66.00"),  # 60.00 + 36.00 - 30.00
    ]
    assert days[1]["started_at"] == "2026-03-28T23:00:00Z"
    assert days[1]["ended_at"] == "2026-03-29T22:00:00Z"
    assert days[0]["previous_hash"] == days[1]["hash"]
    assert days[0]["perpetual_total"] == "77.00"
    assert (
        client_for(staff("auditor")).get("/api/accounting/closings/?kind=WEEK").status_code == 400
    )


def test_the_accounts_audit_has_its_own_endpoint_and_the_series_report_keeps_its_shape(sales):
    auditor = client_for(staff("auditor"))

    accounts = auditor.get("/api/audit/accounts/").json()
    series = auditor.get("/api/audit/sequences/").json()

    assert accounts["clean"] is True and accounts["findings"] == []
    assert [(j["journal_code"], j["count"], j["clean"]) for j in accounts["journals"]] == [
        ("AVPAR", 1, True),
        ("VEPAR", 3, True),
    ]
    assert isinstance(series, list)
    assert set(series[0]) == {
        "series", "kind", "first", "last", "count", "gaps", "gap_count", "duplicates",
        "date_order_violations", "hash_chain_ok", "first_broken_link", "clean",
    }  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "/api/accounting/e-reporting/?date_from=2026-03-29&date_to=2026-03-30",
        "/api/accounting/e-reporting/export/?date_from=2026-03-29&date_to=2026-03-30",
        "/api/accounting/closings/",
        "/api/audit/accounts/",
    ],
)
def test_members_are_refused_the_accounts(db, path):
    assert client_for(MemberFactory().user).get(path).status_code == 403
    assert client_for(None).get(path).status_code == 401
