"""Input the API used to read by guessing is refused, and the refusal says what is wrong.

A date alone was read as local midnight; money strings such as ``" 0.01 "`` or ``"1,00"``
got "Send money as a string" although they were strings; ``"-0.01"`` and ``"0"`` as a credit
got two different refusals.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from tests.conftest import client_for, staff
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db

NOW = "2026-06-01T12:00:00+02:00"
DATE_ONLY = {
    "needs_time": (
        "An instant needs a date and a time, e.g. 2026-10-25T02:10:00+01:00;"
        " a date alone is not one."
    )
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def tariff_body(zone, **changes):
    body = {
        "zone": zone.code,
        "plan": "weekend",
        "valid_from": "2026-07-01T00:00:00+02:00",
        "bands": [{"starts_at": "07:00", "per_minute": "0.30"}],
        "unlock_fee": "1.00",
        "minimum_minutes": 0,
        "daily_cap": None,
    }
    return {**body, **changes}


# Instants need a time.


@pytest.mark.parametrize("field", ["started_at", "ended_at"])
@pytest.mark.parametrize("value", ["2026-10-25", "20261025", "2026-W43-7", "2026-10-25T"])
@time_machine.travel(NOW, tick=False)
def test_a_quote_with_a_date_but_no_time_is_refused(member_client, vehicle, tariff, field, value):
    body = {
        "vehicle": vehicle.plate,
        "started_at": "2026-06-01T10:00:00+02:00",
        "ended_at": "2026-06-01T10:20:00+02:00",
        field: value,
    }

    response = member_client.post("/api/quotes/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {field, "code"}
    code = response.data[field][0].code
    assert code == ("invalid" if value == "2026-10-25T" else "needs_time")
    assert response.json()["code"] == code
    if code == "needs_time":
        assert response.json()[field] == [DATE_ONLY["needs_time"]]


@time_machine.travel(NOW, tick=False)
def test_starting_and_ending_at_a_date_alone_is_refused(member_client, vehicle, tariff):
    refused = member_client.post(
        "/api/rentals/", {"vehicle": vehicle.plate, "started_at": "2026-06-01"}, format="json"
    )
    started = member_client.post("/api/rentals/", {"vehicle": vehicle.plate}, format="json")
    ended = member_client.post(
        f"/api/rentals/{started.json()['id']}/end/", {"ended_at": "2026-06-01"}, format="json"
    )

    assert refused.status_code == 400
    assert refused.data["started_at"][0].code == "needs_time"
    assert ended.status_code == 400
    assert ended.data["ended_at"][0].code == "needs_time"


def test_a_tariff_valid_from_a_date_alone_is_refused(fleet_client, zone):
    response = fleet_client.post(
        "/api/tariffs/", tariff_body(zone, valid_from="2026-07-01"), format="json"
    )

    assert response.status_code == 400
    assert response.data["valid_from"][0].code == "needs_time"


def test_an_export_from_a_date_alone_is_refused(finance_client):
    response = finance_client.get("/api/invoices/export/", {"issued_from": "2026-06-01"})

    assert response.status_code == 400
    assert response.data["issued_from"][0].code == "needs_time"


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2026-06-01T10:00:00+02:00", "2026-06-01T08:00:00Z"),
        ("2026-06-01T08:00:00Z", "2026-06-01T08:00:00Z"),
        ("2026-06-01t08:00:00z", "2026-06-01T08:00:00Z"),
        ("2026-06-01 10:00+02:00", "2026-06-01T08:00:00Z"),
        ("2026-06-01T10:00", "2026-06-01T08:00:00Z"),  # wall clock in the car's zone
        ("2026-06-01T10:00:00.5+0200", "2026-06-01T08:00:00.500000Z"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_instants_with_a_time_are_still_accepted(member_client, vehicle, tariff, value, utc):
    response = member_client.post(
        "/api/quotes/",
        {"vehicle": vehicle.plate, "started_at": value, "ended_at": "2026-06-01T11:00:00+02:00"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["started_at"] == utc


# Money says what is wrong.


EXPONENT = 'Write the amount without an exponent, e.g. "100.00" rather than "1e2".'
DECIMAL_COMMA = 'Use a dot as the decimal separator, e.g. "1.00" rather than "1,00".'


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (" 0.01 ", "whitespace", "Remove the spaces around the amount."),
        ("0.01\n", "whitespace", "Remove the spaces around the amount."),
        ("1e2", "exponent", EXPONENT),
        ("1.5E-3", "exponent", EXPONENT),
        ("NaN", "not_finite", "NaN and infinity are not amounts."),
        ("-Infinity", "not_finite", "NaN and infinity are not amounts."),
        ("inf", "not_finite", "NaN and infinity are not amounts."),
        ("1,00", "decimal_comma", DECIMAL_COMMA),
        ("abc", "invalid", 'Write the amount in plain decimal notation, e.g. "6.00".'),
        ("", "invalid", 'Write the amount in plain decimal notation, e.g. "6.00".'),
        ("1,000.00", "invalid", 'Write the amount in plain decimal notation, e.g. "6.00".'),
        (".5", "invalid", 'Write the amount in plain decimal notation, e.g. "6.00".'),
        (1, "not_a_string", 'Send money as a string, e.g. "6.00", not a JSON number.'),
        (0.01, "not_a_string", 'Send money as a string, e.g. "6.00", not a JSON number.'),
        (True, "not_a_string", 'Send money as a string, e.g. "6.00", not a JSON boolean.'),
        (["1.00"], "not_a_string", 'Send money as a string, e.g. "6.00", not a JSON array.'),
    ],
)  # fmt: skip
def test_a_money_mistake_gets_its_own_message_and_code(fleet_client, zone, value, code, message):
    response = fleet_client.post(
        "/api/tariffs/", tariff_body(zone, unlock_fee=value), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"unlock_fee": [message], "code": code}
    assert response.data["unlock_fee"][0].code == code


def test_a_negative_tariff_amount_is_refused_and_zero_is_free(fleet_client, zone):
    negative = fleet_client.post(
        "/api/tariffs/",
        tariff_body(zone, bands=[{"starts_at": "07:00", "per_minute": "-0.01"}]),
        format="json",
    )
    free = fleet_client.post(
        "/api/tariffs/",
        tariff_body(zone, unlock_fee="0", bands=[{"starts_at": "07:00", "per_minute": "0.00"}]),
        format="json",
    )

    assert negative.status_code == 400
    assert negative.json() == {
        "bands": {"0": {"per_minute": ["Must not be negative."]}},
        "code": "negative",
    }
    assert negative.data["bands"][0]["per_minute"][0].code == "negative"
    assert free.status_code == 201, free.content


@pytest.fixture
def invoice():
    return issue(UserFactory().pk)


@pytest.mark.parametrize("amount", ["-0.01", "0", "0.00", "-0", "0.001", "-100.00"])
def test_a_credit_of_zero_or_less_or_of_too_many_decimals_is_invalid_credit(invoice, amount):
    response = client_for(staff("finance")).post(
        f"/api/invoices/{invoice.number}/credit-notes/",
        {"amount": amount, "reason": "goodwill"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The amount must be positive with at most 2 decimals for EUR.",
        "code": "invalid_credit",
        "field": "amount",
    }


def test_a_credit_amount_that_is_no_amount_says_what_is_wrong(invoice):
    response = client_for(staff("finance")).post(
        f"/api/invoices/{invoice.number}/credit-notes/",
        {"amount": "1,00", "reason": "goodwill"},
        format="json",
    )

    assert response.status_code == 400
    assert response.data["amount"][0].code == "decimal_comma"


def test_a_positive_credit_is_still_issued(invoice):
    response = client_for(staff("finance")).post(
        f"/api/invoices/{invoice.number}/credit-notes/",
        {"amount": "0.01", "reason": "goodwill"},
        format="json",
    )

    assert response.status_code == 201
    assert Decimal(response.json()["total"]) == Decimal("0.01")
