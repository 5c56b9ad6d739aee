"""Races between app servers: the database, not Python, keeps one rental and one invoice."""

from __future__ import annotations

import pytest
import time_machine

from billing.models import Invoice
from rentals.models import Rental
from tests.concurrency.conftest import run_in_threads
from tests.conftest import client_for
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = "2026-06-01T12:00:00+02:00"
COUNT = 20


@pytest.fixture
def car():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    return VehicleFactory(zone=zone)


@time_machine.travel(NOW, tick=False)
def test_20_simultaneous_starts_on_one_vehicle_give_one_201_and_nineteen_409(car):
    clients = [client_for(MemberFactory().user) for _ in range(COUNT)]

    def start(index):
        response = clients[index].post(
            "/api/rentals/",
            {"vehicle": car.plate, "started_at": "2026-06-01T11:00:00+02:00"},
            format="json",
        )
        return response.status_code, response.json().get("code")

    results = run_in_threads(COUNT, start)

    assert sorted(results, key=str) == sorted(
        [(201, None)] + [(409, "vehicle_busy")] * (COUNT - 1), key=str
    ), results
    assert Rental.objects.filter(status=Rental.Status.OPEN).count() == 1


@time_machine.travel(NOW, tick=False)
def test_20_simultaneous_starts_by_one_member_on_20_vehicles_open_one_rental(car):
    member = MemberFactory()
    client_for(member.user)
    plates = [car.plate] + [VehicleFactory(zone=car.zone).plate for _ in range(COUNT - 1)]

    def start(index):
        client = client_for(member.user)
        response = client.post("/api/rentals/", {"vehicle": plates[index]}, format="json")
        return response.status_code, response.json().get("code")

    results = run_in_threads(COUNT, start)

    assert results.count((201, None)) == 1, results
    assert results.count((409, "member_has_open_rental")) == COUNT - 1, results


@time_machine.travel(NOW, tick=False)
def test_20_simultaneous_ends_of_one_rental_give_one_invoice_and_one_body(car):
    member = MemberFactory()
    client_for(member.user)
    rental_id = (
        client_for(member.user)
        .post(
            "/api/rentals/",
            {"vehicle": car.plate, "started_at": "2026-06-01T11:00:00+02:00"},
            format="json",
        )
        .json()["id"]
    )

    def finish(index):
        response = client_for(member.user).post(
            f"/api/rentals/{rental_id}/end/",
            {"ended_at": "2026-06-01T11:20:00+02:00"},
            format="json",
        )
        return response.status_code, response.content

    results = run_in_threads(COUNT, finish)

    assert {status for status, _ in results} == {200}, results
    assert len({body for _, body in results}) == 1
    assert Invoice.objects.count() == 1
    assert Rental.objects.get().invoice_id == Invoice.objects.get().pk


@time_machine.travel(NOW, tick=False)
def test_20_replays_of_one_idempotency_key_give_one_rental_and_identical_bodies(car):
    member = MemberFactory()
    client_for(member.user)

    def start(index):
        response = client_for(member.user).post(
            "/api/rentals/",
            {"vehicle": car.plate, "started_at": "2026-06-01T11:00:00+02:00"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="phone-retry-1",
        )
        return response.status_code, response.content

    results = run_in_threads(COUNT, start)

    assert {status for status, _ in results} == {201}, results
    assert len({body for _, body in results}) == 1
    assert Rental.objects.count() == 1
