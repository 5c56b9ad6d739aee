"""PostgreSQL triggers guard what raw SQL could otherwise change: used tariffs, invoiced rentals."""

from __future__ import annotations

import pytest
import time_machine
from django.db import DatabaseError, connection

from rentals.models import Rental
from tests.conftest import client_for
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ended_rental():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    vehicle = VehicleFactory(zone=zone)
    client = client_for(MemberFactory().user)
    with time_machine.travel("2026-06-01T12:00:00+02:00", tick=False):
        rental_id = client.post("/api/rentals/", {"vehicle": vehicle.plate}, format="json").json()[
            "id"
        ]
        client.post(f"/api/rentals/{rental_id}/end/", {}, format="json")
    return Rental.objects.get(pk=rental_id)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE fleet_tariff SET unlock_fee = 0 WHERE id = %(tariff)s",
        "DELETE FROM fleet_tariff WHERE id = %(tariff)s",
        "UPDATE fleet_tariffband SET per_minute = 0 WHERE tariff_id = %(tariff)s",
        "DELETE FROM fleet_tariffband WHERE tariff_id = %(tariff)s",
        "DELETE FROM rentals_rental WHERE id = %(rental)s",
        "INSERT INTO fleet_tariffband (tariff_id, starts_at, per_minute)"
        " VALUES (%(tariff)s, '12:00', 9)",
    ],
    ids=[
        "update-tariff",
        "delete-tariff",
        "update-band",
        "delete-band",
        "delete-rental",
        "add-band",
    ],
)
def test_raw_sql_cannot_change_a_used_tariff_or_delete_an_invoiced_rental(ended_rental, statement):
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute(statement, {"tariff": ended_rental.tariff_id, "rental": ended_rental.pk})

    assert Rental.objects.filter(pk=ended_rental.pk, invoice__isnull=False).exists()


def test_an_unused_tariff_can_still_be_corrected():
    tariff = TariffFactory(zone=ZoneFactory())

    with connection.cursor() as cursor:
        cursor.execute("UPDATE fleet_tariff SET unlock_fee = 2 WHERE id = %s", [tariff.pk])

    tariff.refresh_from_db()
    assert tariff.unlock_fee == 2


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO rentals_parkedinterval (rental_id, paused_at, resumed_at)"
        " VALUES (%(rental)s, now() - interval '1 day', now() - interval '23 hours')",
        "UPDATE rentals_parkedinterval SET resumed_at = paused_at WHERE rental_id = %(rental)s",
        "DELETE FROM rentals_parkedinterval WHERE rental_id = %(rental)s",
    ],
    ids=["add-a-pause", "move-a-pause", "remove-a-pause"],
)
def test_raw_sql_cannot_change_the_pauses_of_an_ended_rental(ended_rental, statement):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE rentals_parkedinterval DISABLE TRIGGER USER")
        cursor.execute(
            "INSERT INTO rentals_parkedinterval (rental_id, paused_at, resumed_at)"
            " SELECT id, started_at, started_at FROM rentals_rental WHERE id = %s",
            [ended_rental.pk],
        )
        cursor.execute("ALTER TABLE rentals_parkedinterval ENABLE TRIGGER USER")

    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute(statement, {"rental": ended_rental.pk})

    assert ended_rental.parked_intervals.count() == 1
