"""Instants with UTC offsets PostgreSQL cannot store (beyond +-15:59) must not be a 500.

Python accepts offsets up to +-23:59 and ISO 8601 does not bound them; PostgreSQL's
timestamptz input refuses anything beyond +-15:59 ("time zone displacement out of range").
Schemathesis found the first of these (GET /api/invoices/?issued_from=...+19:54 gave a 500
on PostgreSQL). Whether such an instant is refused (400) or normalised to UTC is the API's
choice; a server error is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone

from rentals import lifecycle
from tests.conftest import client_for, staff
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FAR_EAST = timezone(timedelta(hours=19, minutes=54))


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
    since = far_east(datetime(2026, 1, 1, tzinfo=UTC))

    response = client(staff("finance")).get("/api/invoices/", {"issued_from": since})

    assert response.status_code < 500


def test_exporting_invoices_issued_from_an_instant_with_a_19_54_offset(db):
    since = far_east(datetime(2026, 1, 1, tzinfo=UTC))

    response = client(staff("finance")).get("/api/invoices/export/", {"issued_from": since})

    assert response.status_code < 500


def test_quoting_with_instants_with_a_19_54_offset(car):
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    body = {
        "vehicle": car.plate,
        "started_at": far_east(start),
        "ended_at": far_east(start + timedelta(minutes=20)),
    }

    response = client(MemberFactory().user).post("/api/quotes/", body, format="json")

    assert response.status_code < 500


def test_starting_a_rental_at_an_instant_with_a_19_54_offset(car):
    body = {"vehicle": car.plate, "started_at": far_east(django_timezone.now())}

    response = client(MemberFactory().user).post("/api/rentals/", body, format="json")

    assert response.status_code < 500


def test_ending_a_rental_at_an_instant_with_a_19_54_offset(car):
    member = MemberFactory()
    now = django_timezone.now()
    rental = lifecycle.start_rental(
        member=member, plate=car.plate, started_at=None, now=now - timedelta(hours=1)
    )

    response = client(member.user).post(
        f"/api/rentals/{rental.pk}/end/", {"ended_at": far_east(now)}, format="json"
    )

    assert response.status_code < 500
