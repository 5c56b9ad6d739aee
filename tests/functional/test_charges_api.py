"""Finance publishes fees and charges members over HTTP; members see the invoices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from fleet import fees
from fleet.models import Fee
from rentals.models import MemberCharge

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 3, 8, 6, tzinfo=UTC)
DEBOURS = "Débours (CGI art. 267 II 2°)"


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def catalogue(zone):
    since = datetime(2026, 1, 1, tzinfo=UTC)
    fees.publish_fee(
        zone=zone, code="cleaning", label="Cleaning", unit_price=Decimal("25.00"),
        valid_from=since, now=since,
    )  # fmt: skip
    fees.publish_fee(
        zone=zone, code="fine", label="Traffic fine passed through", pass_through=True,
        vat=Fee.Vat.OUT_OF_SCOPE, vat_exemption=DEBOURS, valid_from=since, now=since,
    )  # fmt: skip
    fees.publish_fee(
        zone=zone, code="fine-handling", label="Fine handling", unit_price=Decimal("12.00"),
        valid_from=since, now=since,
    )  # fmt: skip


def url(member):
    return f"/api/members/{member.user_id}/charges/"


def test_finance_charges_one_fee_with_a_small_body_and_gets_the_invoice(
    finance_client, member, zone, catalogue
):
    response = finance_client.post(url(member), {"zone": "paris", "fee": "cleaning"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["member"], body["zone"], body["rental"]) == (member.user_id, "paris", None)
    assert body["lines"] == [
        {
            "position": 1,
            "fee": "cleaning",
            "description": "Cleaning",
            "quantity": "1",
            "amount": None,
            "external_reference": "",
        }
    ]
    invoice = body["invoice"]
    assert (invoice["number"], invoice["total"], invoice["charge_kind"]) == (
        "PAR-2026-000001",
        "25.00",
        "member_charge",
    )


def test_several_lines_go_on_one_invoice_with_vat_per_rate(finance_client, member, catalogue):
    response = finance_client.post(
        url(member),
        {
            "zone": "paris",
            "note": "Speed camera, 12 October",
            "lines": [
                {"fee": "fine", "amount": "35.00", "external_reference": "Avis 7731"},
                {"fee": "fine-handling"},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    invoice = response.json()["invoice"]
    assert [(line["kind"], line["amount"], line["vat_rate"]) for line in invoice["lines"]] == [
        ("PASSED_THROUGH", "35.00", None),
        ("FEE", "12.00", "0.20"),
    ]
    assert invoice["vat_breakdown"] == [
        {"vat_rate": "0.20", "vat_exemption": "", "net": "10.00", "vat": "2.00", "total": "12.00"},
        {
            "vat_rate": None,
            "vat_exemption": DEBOURS,
            "net": "35.00",
            "vat": "0.00",
            "total": "35.00",
        },
    ]
    assert (invoice["total"], invoice["vat_rate"]) == ("47.00", None)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"zone": "paris", "fee": "cleaning", "lines": [{"fee": "cleaning"}]}, "ambiguous_charge"),
        ({"zone": "paris", "quantity": "2", "lines": [{"fee": "cleaning"}]}, "ambiguous_charge"),
        ({"zone": "paris", "fee": "cleaning", "amount": "10.00"}, "ambiguous_charge"),
        ({"zone": "paris", "fee": "fine", "amount": "35.00"}, "ambiguous_charge"),
        ({"zone": "paris"}, "invalid_charge"),
        ({"fee": "cleaning"}, "invalid_charge"),
        ({"zone": "paris", "fee": "towing"}, "unknown_fee"),
        ({"zone": "paris", "fee": "cleaning", "rental": 999}, "unknown_rental"),
    ],
    ids=[
        "fee-and-lines", "line-field-beside-lines", "amount-for-a-priced-fee",
        "cost-without-reference", "no-fee", "no-zone", "unknown-fee", "not-the-members-rental",
    ],
)  # fmt: skip
def test_a_body_that_could_mean_two_things_or_nothing_is_refused_with_a_code(
    finance_client, member, catalogue, body, code
):
    response = finance_client.post(url(member), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert not MemberCharge.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"zone": "paris", "fee": "cleaning", "quantity": 2},
        {"zone": "paris", "fee": "cleaning", "quantity": "0"},
        {"zone": "paris", "fee": "cleaning", "quantity": "1.23456"},
        {"zone": "paris", "lines": []},
        {"zone": "paris", "fee": "fine", "amount": 35, "external_reference": "x"},
        {"zone": "paris", "fee": "cleaning", "colour": "red"},
    ],
    ids=["number-quantity", "zero", "five-decimals", "no-lines", "float-amount", "unknown-field"],
)
def test_malformed_fields_are_field_errors(finance_client, member, catalogue, body):
    response = finance_client.post(url(member), body, format="json")

    assert response.status_code == 400, response.content
    assert not MemberCharge.objects.exists()


def test_an_unknown_member_is_a_json_404(finance_client, catalogue):
    response = finance_client.post("/api/members/424242/charges/", {"fee": "x"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_same_idempotency_key_charges_once_and_replays_the_answer(
    finance_client, member, catalogue
):
    body = {"zone": "paris", "fee": "cleaning"}

    first = finance_client.post(url(member), body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    again = finance_client.post(url(member), body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert MemberCharge.objects.count() == 1


def test_a_member_sees_the_fee_invoice_like_a_rental_invoice_and_others_do_not(
    finance_client, member_client, other_member_client, member, catalogue
):
    number = finance_client.post(
        url(member), {"zone": "paris", "fee": "cleaning"}, format="json"
    ).json()["invoice"]["number"]

    listed = member_client.get("/api/invoices/").json()["results"]

    assert [invoice["number"] for invoice in listed] == [number]
    assert member_client.get(f"/api/invoices/{number}/").json()["total"] == "25.00"
    assert other_member_client.get(f"/api/invoices/{number}/").status_code == 404
    assert other_member_client.get("/api/invoices/").json()["results"] == []


def test_finance_lists_a_members_charges_newest_first(finance_client, member, catalogue):
    for fee in ("cleaning", "fine-handling"):
        finance_client.post(url(member), {"zone": "paris", "fee": fee}, format="json")

    listed = finance_client.get(url(member)).json()["results"]

    assert [charge["lines"][0]["fee"] for charge in listed] == ["fine-handling", "cleaning"]


def test_finance_publishes_a_fee_and_lists_the_catalogue(finance_client, zone):
    response = finance_client.post(
        "/api/fees/",
        {
            "zone": "paris",
            "code": "late-return",
            "label": "Late return",
            "unit": "hour",
            "unit_price": "50.00",
            "cap_per_occurrence": "150.00",
            "vat": "rate",
            "vat_rate": "0.20",
            "valid_from": "2026-01-01T00:00:00+01:00",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "zone": "paris",
        "code": "late-return",
        "label": "Late return",
        "unit": "hour",
        "unit_price": "50.00",
        "pass_through": False,
        "vat": "rate",
        "vat_rate": "0.20",
        "vat_exemption": "",
        "cap_per_occurrence": "150.00",
        "valid_from": "2025-12-31T23:00:00Z",
        "valid_from_local": "2026-01-01T00:00:00+01:00",
        "currency": "EUR",
        "created_at": "",
    }
    listed = finance_client.get("/api/fees/", {"zone": "paris"}).json()["results"]
    assert [fee["code"] for fee in listed] == ["late-return"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"unit_price": "1.00", "vat": "out_of_scope"}, 400, "invalid_fee"),
        ({"unit_price": "1.00", "vat": "reduced"}, 400, None),
        ({"unit_price": "1.00", "valid_from": "2026-01-01T00:00:00"}, 400, None),
        ({"pass_through": True, "vat": "out_of_scope", "vat_exemption": DEBOURS}, 201, None),
    ],
    ids=["out-of-scope-without-reason", "unknown-vat", "no-offset", "pass-through"],
)
def test_fee_bodies_are_checked(finance_client, zone, body, status, code):
    base = {"zone": "paris", "code": "x", "label": "X", "valid_from": "2026-01-01T00:00:00Z"}

    response = finance_client.post("/api/fees/", base | body, format="json")

    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
