"""Instants with UTC offsets PostgreSQL cannot store (beyond +-15:59) are that instant, in UTC.

Python accepts offsets up to +-23:59 and ISO 8601 does not bound them; PostgreSQL's
timestamptz input refuses anything beyond +-15:59 ("time zone displacement out of range").
Schemathesis found the first of these (GET /api/invoices/?issued_from=...+19:54 gave a 500
on PostgreSQL). The API reads such an instant as the instant it names and turns it to UTC
at the edge, so that it never reaches the database with its offset: each test pins what
is answered and what is stored or priced.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine

from billing import exports
from core.localtime import utc_iso
from rentals import lifecycle
from rentals.models import Rental
from tests.conftest import client_for, staff
from tests.factories import MemberFactory, TariffFactory, UserFactory, VehicleFactory, ZoneFactory
from tests.invoices import issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FAR_EAST = timezone(timedelta(hours=19, minutes=54))
NOW = "2026-06-01T10:00:00+00:00"


def client(user=None):
    """An API client that answers 500 instead of raising the view's exception."""
    api = client_for(user)
    api.raise_request_exception = False
    return api


def far_east(instant: datetime) -> str:
    """The same instant, written with a +19:54 offset."""
    return instant.astimezone(FAR_EAST).isoformat()


@pytest.fixture
def car():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    return VehicleFactory(zone=zone)


def test_listing_invoices_issued_from_an_instant_with_a_19_54_offset(db):
    invoice = issue(UserFactory().pk)
    finance = client(staff("finance"))

    since = finance.get("/api/invoices/", {"issued_from": far_east(invoice.issued_at)})
    after = finance.get(
        "/api/invoices/",
        {"issued_from": far_east(invoice.issued_at + timedelta(microseconds=1))},
    )

    assert since.status_code == after.status_code == 200
    # issued_from is included, to the microsecond: the offset was read, not dropped.
    assert [found["number"] for found in since.json()["results"]] == [invoice.number]
    assert after.json()["results"] == []


def test_exporting_invoices_issued_from_an_instant_with_a_19_54_offset(db):
    invoice = issue(UserFactory().pk)
    finance = client(staff("finance"))
    since = far_east(invoice.issued_at)

    response = finance.get("/api/invoices/export/", {"issued_from": since})
    later = finance.get(
        "/api/invoices/export/",
        {"issued_from": far_east(invoice.issued_at + timedelta(microseconds=1))},
    )

    assert response.status_code == later.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(response)
    assert rows[0] == list(exports.COLUMNS)
    assert [(row[0], row[1], row[4]) for row in rows[1:]] == [
        ("invoice", invoice.number, utc_iso(invoice.issued_at))
    ]
    assert _csv_rows(later) == [list(exports.COLUMNS)]
    # The file is named in the caller's own offset, as the bound was written.
    written = datetime.fromisoformat(since)
    assert response["Content-Disposition"] == (
        f'attachment; filename="invoices_from_{written:%Y-%m-%dT%H%M}.csv"'
    )


def test_quoting_with_instants_with_a_19_54_offset(car):
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    body = {
        "vehicle": car.plate,
        "started_at": far_east(start),
        "ended_at": far_east(start + timedelta(minutes=20)),
    }

    response = client(MemberFactory().user).post("/api/quotes/", body, format="json")

    assert response.status_code == 200
    quote = response.json()
    assert (quote["started_at"], quote["ended_at"]) == (
        "2026-06-01T08:00:00Z",
        "2026-06-01T08:20:00Z",
    )
    assert (quote["started_at_local"], quote["ended_at_local"]) == (
        "2026-06-01T10:00:00+02:00",
        "2026-06-01T10:20:00+02:00",
    )
    # 20 day-band minutes at 0.35 and the unlock fee.
    assert (quote["minutes"], quote["total"], quote["currency"]) == (20, "8.00", "EUR")


@time_machine.travel(NOW, tick=False)
def test_starting_a_rental_at_an_instant_with_a_19_54_offset(car):
    started_at = datetime.fromisoformat(NOW) - timedelta(minutes=10)
    body = {"vehicle": car.plate, "started_at": far_east(started_at)}

    response = client(MemberFactory().user).post("/api/rentals/", body, format="json")

    assert response.status_code == 201
    rental = response.json()
    assert (rental["status"], rental["started_at"], rental["started_at_local"]) == (
        "open",
        "2026-06-01T09:50:00Z",
        "2026-06-01T11:50:00+02:00",
    )
    stored = Rental.objects.get(pk=rental["id"])
    assert stored.started_at == started_at
    assert stored.started_at.utcoffset() == timedelta(0)


@time_machine.travel(NOW, tick=False)
def test_ending_a_rental_at_an_instant_with_a_19_54_offset(car):
    member = MemberFactory()
    now = datetime.fromisoformat(NOW)
    rental = lifecycle.start_rental(
        member=member, plate=car.plate, started_at=None, now=now - timedelta(hours=1)
    )

    response = client(member.user).post(
        f"/api/rentals/{rental.pk}/end/", {"ended_at": far_east(now)}, format="json"
    )

    assert response.status_code == 200
    ended = response.json()
    assert (ended["status"], ended["ended_at"], ended["ended_at_local"]) == (
        "ended",
        "2026-06-01T10:00:00Z",
        "2026-06-01T12:00:00+02:00",
    )
    # 60 day-band minutes at 0.35 and the unlock fee, invoiced.
    assert (ended["minutes"], ended["total"], ended["invoice"]["total"]) == (60, "22.00", "22.00")
    stored = Rental.objects.get(pk=rental.pk)
    assert (stored.ended_at, stored.minutes, stored.invoice.total) == (now, 60, Decimal("22.00"))


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body, newline="")))
