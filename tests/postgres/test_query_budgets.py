"""Each write endpoint holds a budget of queries per request, on PostgreSQL as in production.

A budget is a count, not a time: what a request sends to the database, from the token to
the commit. Authentication and the role check cost ``AUTH`` queries on every request; the
``Idempotency-Key`` bookkeeping ``KEYED`` (claim the key, store the answer); the use case's
transaction ``TRANSACTION`` (its BEGIN and COMMIT, which Django logs as queries). What is
left is the use case and its answer. Every answer is checked against a fresh GET, so a
budget cannot be met by answering from stale objects.

The tests are transactional: requests commit, as they do behind gunicorn.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fleet import fees
from tests.conftest import client_for, staff
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 3, 8, 6, tzinfo=UTC)  # 09:06 in Paris: the day band
AUTH = 3  # the token with its user, the member or the role's group
KEYED = 2  # the key claimed in one statement, the rendered answer stored in another
TRANSACTION = 2  # BEGIN and COMMIT of the use case
# The use case's own queries and its answer's, per endpoint.
BUDGETS = {
    "start": 9,
    "pause": 4,
    "resume": 4,
    "end": 14,
    "charge": 17,
    "credit_note": 12,
}


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    member = MemberFactory()
    since = datetime(2026, 1, 1, tzinfo=UTC)
    fees.publish_fee(
        zone=zone, code="cleaning", label="Cleaning", unit_price=Decimal("25.00"),
        valid_from=since, now=since,
    )  # fmt: skip
    fees.publish_fee(
        zone=zone, code="late-return", label="Late return, per hour", unit="hour",
        unit_price=Decimal("15.00"), valid_from=since, now=since,
    )  # fmt: skip
    return member, VehicleFactory(zone=zone), client_for(member.user)


def _post(client, path, body, *, key):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code in (200, 201), response.content
    return response, [query["sql"] for query in queries.captured_queries]


def _within(name, sent):
    budget = AUTH + KEYED + TRANSACTION + BUDGETS[name]
    assert len(sent) == budget, f"{name}: {len(sent)} queries, budget {budget}:\n" + "\n".join(sent)


def _under_lock(sent):
    """What is sent while the series counter is held, from its upsert to COMMIT, by name."""
    taken = next(i for i, sql in enumerate(sent) if 'INTO "sequences_sequence"' in sql)
    return [_statement(sql) for sql in sent[taken : sent.index("COMMIT")]]


def _statement(sql):
    names = {
        'WITH counter AS (INSERT INTO "sequences_sequence"': "journal entry",
        'INSERT INTO "sequences_sequence"': "number",
        "SELECT clock_timestamp()": "date",
        'SELECT "billing_invoice"."hash"': "previous hash",
        'SELECT "billing_creditnote"."hash"': "previous hash",
        'INSERT INTO "billing_invoice" ': "invoice",
        'INSERT INTO "billing_invoiceline" ': "lines",
        'INSERT INTO "billing_creditnote" ': "credit note",
    }
    return next((name for start, name in names.items() if sql.strip().startswith(start)), sql)


def _same_as_read(client, response, path):
    assert response.json() == client.get(path).json()


def test_a_rental_lives_within_its_budgets(world):
    _, vehicle, client = world
    started = NOW - timedelta(minutes=40)
    response, sent = _post(
        client, "/api/rentals/", {"vehicle": vehicle.plate, "started_at": started.isoformat()},
        key="start",
    )  # fmt: skip
    _within("start", sent)
    rental = response.json()["id"]
    _same_as_read(client, response, f"/api/rentals/{rental}/")

    for step, at in (("pause", 30), ("resume", 20)):
        response, sent = _post(
            client, f"/api/rentals/{rental}/{step}/",
            {"at": (NOW - timedelta(minutes=at)).isoformat()}, key=step,
        )  # fmt: skip
        _within(step, sent)
        _same_as_read(client, response, f"/api/rentals/{rental}/")

    response, sent = _post(
        client, f"/api/rentals/{rental}/end/", {"distance_km": "12.5"}, key="end"
    )
    _within("end", sent)
    # The first invoice of its series: no previous hash to read.
    assert _under_lock(sent) == ["number", "date", "invoice", "lines", "journal entry"]
    _same_as_read(client, response, f"/api/rentals/{rental}/")


def test_a_replay_costs_the_key_and_nothing_else(world):
    _, vehicle, client = world
    body = {"vehicle": vehicle.plate}
    first, _ = _post(client, "/api/rentals/", body, key="once")
    again, sent = _post(client, "/api/rentals/", body, key="once")
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    # The token, the member, the claim refused, the stored answer read.
    assert len(sent) == AUTH + 2, "\n".join(sent)


def test_finance_charges_and_credits_within_their_budgets(world):
    member, _, _ = world
    finance = client_for(staff("finance"))
    # A quantity with decimals: the answer must say it as the database keeps it.
    charge = {"zone": "paris", "lines": [{"fee": "late-return", "quantity": "2.5"}]}
    path = f"/api/members/{member.user_id}/charges/"
    response, sent = _post(finance, path, charge, key="charge")
    _within("charge", sent)
    assert _under_lock(sent) == ["number", "date", "invoice", "lines", "journal entry"]
    assert [response.json()] == finance.get(path).json()["results"]
    number = response.json()["invoice"]["number"]
    assert response.json()["invoice"] == finance.get(f"/api/invoices/{number}/").json()

    response, sent = _post(
        finance, f"/api/invoices/{number}/credit-notes/",
        {"amount": "5.00", "reason": "goodwill"}, key="credit",
    )  # fmt: skip
    _within("credit_note", sent)
    assert _under_lock(sent) == ["number", "date", "credit note", "journal entry"]
    # The invoice, read again, lists the note as the answer gave it.
    assert finance.get(f"/api/invoices/{number}/").json()["credit_notes"] == [response.json()]


def test_the_next_document_of_a_series_reads_the_previous_hash_and_nothing_more(world):
    member, _, _ = world
    finance = client_for(staff("finance"))
    path = f"/api/members/{member.user_id}/charges/"
    first, _ = _post(finance, path, {"zone": "paris", "fee": "cleaning"}, key="first")
    _, sent = _post(finance, path, {"zone": "paris", "fee": "cleaning"}, key="second")
    assert _under_lock(sent) == [
        "number", "date", "previous hash", "invoice", "lines", "journal entry",
    ]  # fmt: skip
    number = first.json()["invoice"]["number"]
    credit = {"amount": "1.00", "reason": "goodwill"}
    _post(finance, f"/api/invoices/{number}/credit-notes/", credit, key="note-1")
    _, sent = _post(finance, f"/api/invoices/{number}/credit-notes/", credit, key="note-2")
    assert _under_lock(sent) == ["number", "date", "previous hash", "credit note", "journal entry"]
