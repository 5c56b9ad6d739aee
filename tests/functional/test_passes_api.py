"""Passes over HTTP: finance sells them, members subscribe and cancel, periods show invoices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from fleet import pass_runs
from fleet.models import Subscription
from tests.factories import TariffFactory

pytestmark = pytest.mark.django_db

# 28 March 2026, 10:00 in Paris: the spring-forward night is the next one.
NOW = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def product(finance_client, zone):
    TariffFactory(zone=zone)
    TariffFactory(zone=zone, plan="pass")
    response = finance_client.post(
        "/api/passes/",
        {
            "zone": "paris", "code": "monthly", "label": "Paris monthly pass",
            "monthly_price": "19.90", "plan": "pass",
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def subscribe(client, **fields):
    body = {"zone": "paris", "product": "monthly", "start_date": "2026-03-29"} | fields
    return client.post("/api/subscriptions/", body, format="json")


def test_finance_puts_a_pass_on_sale_and_members_see_it(product, member_client):
    assert product | {"id": 0, "created_at": ""} == {
        "id": 0,
        "zone": "paris",
        "code": "monthly",
        "label": "Paris monthly pass",
        "monthly_price": "19.90",
        "plan": "pass",
        "on_sale": True,
        "currency": "EUR",
        "created_at": "",
    }
    assert [p["code"] for p in member_client.get("/api/passes/").json()["results"]] == ["monthly"]


def test_a_member_subscribes_from_a_dst_night_and_sees_the_period_midnight_to_midnight(
    product, member_client, member
):
    response = subscribe(member_client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["member"], body["start_date"], body["plan"]) == (
        member.user_id,
        "2026-03-29",
        "pass",
    )
    assert (body["started_at"], body["started_at_local"]) == (
        "2026-03-28T23:00:00Z",
        "2026-03-29T00:00:00+01:00",
    )
    (upcoming,) = body["periods"]
    assert upcoming == {
        "period": 1,
        "starts_at": "2026-03-28T23:00:00Z",
        "starts_at_local": "2026-03-29T00:00:00+01:00",
        "ends_at": "2026-04-28T22:00:00Z",
        "ends_at_local": "2026-04-29T00:00:00+02:00",
        "first_date": "2026-03-29",
        "last_date": "2026-04-28",
        "invoice": None,
    }


def test_the_billed_period_shows_its_invoice_and_the_member_gets_it(product, member_client, member):
    subscription = subscribe(member_client).json()
    with time_machine.travel(datetime(2026, 3, 29, 6, 0, tzinfo=UTC), tick=False):
        until = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
        assert pass_runs.bill_due_subscriptions(until=until, now=until).billed == 1

    shown = member_client.get(f"/api/subscriptions/{subscription['id']}/").json()
    (first, upcoming) = shown["periods"]
    assert (first["invoice"], upcoming["invoice"]) == ("PAR-2026-000001", None)
    invoice = member_client.get("/api/invoices/PAR-2026-000001/").json()
    assert (invoice["total"], invoice["charge_kind"], invoice["lines"][0]["kind"]) == (
        "19.90",
        "subscription_period",
        "MONTHLY_PASS",
    )
    assert (invoice["period_started_at_local"], invoice["period_ended_at_local"]) == (
        "2026-03-29T00:00:00+01:00",
        "2026-04-29T00:00:00+02:00",
    )


def test_finance_subscribes_a_member_and_must_name_them(product, finance_client, member):
    named = subscribe(finance_client, member=member.user_id)
    unnamed = subscribe(finance_client)
    unknown = subscribe(finance_client, member=424242)

    assert named.status_code == 201 and named.json()["member"] == member.user_id
    assert (unnamed.status_code, unnamed.json()["code"]) == (400, "unknown_member")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_member")


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"start_date": "2026-03-27"}, 400, "invalid_start_date"),
        ({"start_date": "2027-03-29"}, 400, "invalid_start_date"),
        ({"start_date": "9999-12-31"}, 400, "invalid_start_date"),
        ({"product": "yearly"}, 400, "unknown_pass"),
        ({"start_date": "2026-03-29T00:00:00"}, 400, None),
    ],
    ids=["yesterday", "a-year-and-a-day-ahead", "year-9999", "unknown-pass", "an-instant"],
)
def test_bad_subscriptions_are_refused(product, member_client, fields, status, code):
    response = subscribe(member_client, **fields)

    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
    assert not Subscription.objects.exists()


def test_a_second_subscription_in_the_zone_overlapping_the_first_is_refused(product, member_client):
    assert subscribe(member_client).status_code == 201

    again = subscribe(member_client, start_date="2026-05-01")

    assert (again.status_code, again.json()["code"]) == (409, "subscription_overlaps")


def test_a_member_cancels_at_the_period_end_and_a_repeat_changes_nothing(
    product, member_client, other_member_client
):
    subscription = subscribe(member_client, start_date="2026-03-28").json()
    cancel = f"/api/subscriptions/{subscription['id']}/cancel/"

    cancelled = member_client.post(cancel, {}, format="json")
    again = member_client.post(cancel, {"effective": "period_end"}, format="json")
    foreign = other_member_client.post(cancel, {}, format="json")

    assert cancelled.status_code == 200, cancelled.content
    body = cancelled.json()
    assert (body["ends_at_local"], body["cancelled_at"]) == (
        "2026-04-28T00:00:00+02:00",
        "2026-03-28T09:00:00Z",
    )
    assert [p["period"] for p in body["periods"]] == [1]  # no period after the end
    assert again.json()["ends_at"] == body["ends_at"]
    assert (foreign.status_code, foreign.json()["code"]) == (404, "subscription_not_found")
    # After the end, the member may subscribe again.
    assert subscribe(member_client, start_date="2026-04-28").status_code == 201


def test_a_member_lists_only_their_own_subscriptions(product, member_client, other_member_client):
    subscribe(member_client)

    assert len(member_client.get("/api/subscriptions/").json()["results"]) == 1
    assert other_member_client.get("/api/subscriptions/").json()["results"] == []


def test_a_pass_price_with_sub_cent_decimals_or_a_plan_without_tariff_is_refused(
    finance_client, zone
):
    TariffFactory(zone=zone)
    base = {"zone": "paris", "code": "x", "label": "X", "plan": "standard"}

    odd = finance_client.post("/api/passes/", base | {"monthly_price": "9.999"}, format="json")
    planless = finance_client.post(
        "/api/passes/", base | {"monthly_price": "9.99", "plan": "gold"}, format="json"
    )

    assert [(r.status_code, r.json()["code"]) for r in (odd, planless)] == [
        (400, "invalid_pass"),
        (400, "invalid_pass"),
    ]
