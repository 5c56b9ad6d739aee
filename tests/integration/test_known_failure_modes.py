"""Known failure modes of billing systems not proven elsewhere, one test each."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from sequences.models import Sequence

from billing import numbering, pricing
from billing.models import Invoice
from core import clock
from core.transactions import run_in_transaction
from rentals.models import Rental
from tests.factories import UserFactory
from tests.invoices import PARIS_STANDARD, issue

NOW = "2026-06-01T12:00:00+02:00"


def test_the_same_local_trip_costs_the_same_in_winter_and_in_summer():
    paris = pricing.Tariff(
        time_zone="Europe/Paris", currency="EUR", vat_rate=Decimal("0.20"),
        bands=[pricing.Band(starts_at=time(7, 0), per_minute=Decimal("0.35")),
               pricing.Band(starts_at=time(22, 0), per_minute=Decimal("0.20"))],
    )  # fmt: skip
    winter = datetime(2026, 1, 15, 5, 30, tzinfo=UTC)  # 06:30 CET
    summer = datetime(2026, 7, 15, 4, 30, tzinfo=UTC)  # 06:30 CEST

    winter_charge = pricing.price(paris, winter, winter + timedelta(hours=1))
    summer_charge = pricing.price(paris, summer, summer + timedelta(hours=1))

    # 30 night minutes at 0.20 and 30 day minutes at 0.35, whatever the season's offset.
    assert winter_charge.total == summer_charge.total == Decimal("16.50")


@pytest.mark.parametrize("frozen", ["1999-01-01T00:00:00Z", "2037-06-30T23:59:00+14:00"])
def test_pricing_never_reads_the_clock(frozen):
    started = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)
    expected = pricing.price(PARIS_STANDARD, started, started + timedelta(minutes=20))

    with time_machine.travel(frozen, tick=False):
        again = pricing.price(PARIS_STANDARD, started, started + timedelta(minutes=20))

    assert again == expected


@pytest.mark.django_db(transaction=True)
def test_a_number_cannot_be_taken_outside_a_transaction():
    with pytest.raises(RuntimeError):
        numbering.take_number("PAR-2026")
    assert not Sequence.objects.exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_quotes_and_refused_ends_take_no_number(member_client, vehicle, tariff):
    member_client.post(
        "/api/quotes/",
        {"vehicle": vehicle.plate, "started_at": "2026-06-01T10:00:00+02:00",
         "ended_at": "2026-06-01T11:00:00+02:00"},
        format="json",
    )  # fmt: skip
    rental_id = member_client.post(
        "/api/rentals/", {"vehicle": vehicle.plate, "started_at": "2026-06-01T10:00:00+02:00"},
        format="json",
    ).json()["id"]  # fmt: skip
    refused = member_client.post(
        f"/api/rentals/{rental_id}/end/", {"ended_at": "2026-06-01T09:00:00+02:00"}, format="json"
    )

    assert refused.status_code == 400
    assert not Sequence.objects.exists()
    assert not Invoice.objects.exists()
    ended = member_client.post(
        f"/api/rentals/{rental_id}/end/", {"ended_at": "2026-06-01T11:00:00+02:00"}, format="json"
    )
    assert ended.json()["invoice"]["sequence"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_second_document_with_the_same_number():
    invoice = issue(UserFactory().pk)
    fields = {
        f.attname: getattr(invoice, f.attname)
        for f in Invoice._meta.concrete_fields
        if not f.primary_key
    }
    fields.update(number="X-1", hash="f" * 64, subject_id=invoice.subject_id + 1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(**fields)


def test_no_request_wide_transaction():
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is False


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOW, tick=False)
def test_a_request_reaches_its_use_case_outside_any_transaction(monkeypatch):
    from rentals import lifecycle
    from tests.conftest import client_for
    from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

    zone = ZoneFactory()
    TariffFactory(zone=zone)
    vehicle = VehicleFactory(zone=zone)
    seen = []
    real_start = lifecycle.start_rental

    def start_rental(**kwargs):
        seen.append(connection.in_atomic_block)
        return real_start(**kwargs)

    monkeypatch.setattr(lifecycle, "start_rental", start_rental)

    response = client_for(MemberFactory().user).post(
        "/api/rentals/", {"vehicle": vehicle.plate}, format="json"
    )

    assert response.status_code == 201
    assert seen == [False]  # the use case, not the request, begins the transaction


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_reruns_the_whole_use_case():
    from django.db import OperationalError

    attempts = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def use_case():
        attempts.append(connection.in_atomic_block)
        if len(attempts) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return "done"

    assert run_in_transaction(use_case) == "done"
    assert attempts == [True, True]


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried():
    from django.db import OperationalError

    attempts = []

    def use_case():
        attempts.append(1)
        raise OperationalError("disk full")

    with pytest.raises(OperationalError):
        run_in_transaction(use_case)
    assert attempts == [1]


@pytest.mark.django_db(transaction=True)
def test_use_cases_never_nest():
    with pytest.raises(RuntimeError), transaction.atomic(durable=True):
        run_in_transaction(lambda: None)


def test_the_sequence_counters_are_not_in_the_admin():
    assert not admin.site.is_registered(Sequence)


@pytest.mark.django_db
def test_the_counters_live_in_the_invoices_database():
    from django.db import router

    assert router.db_for_write(Sequence) == router.db_for_write(Invoice)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_invoice_filters_are_half_open(finance_client, member, monkeypatch):
    instants = [datetime(2026, 5, 31, 22, 0, tzinfo=UTC), datetime(2026, 6, 1, 22, 0, tzinfo=UTC)]
    for instant in instants:
        monkeypatch.setattr(clock, "read_database_clock", lambda instant=instant: instant)
        issue(member.user_id)

    listed = finance_client.get(
        "/api/invoices/",
        {"issued_from": "2026-06-01T00:00:00+02:00", "issued_to": "2026-06-02T00:00:00+02:00"},
    ).json()["results"]

    assert [invoice["issued_at"] for invoice in listed] == ["2026-05-31T22:00:00Z"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_phone_retrying_an_end_gets_one_invoice(member_client, vehicle, tariff):
    rental_id = member_client.post(
        "/api/rentals/", {"vehicle": vehicle.plate}, format="json"
    ).json()["id"]
    key = {"HTTP_IDEMPOTENCY_KEY": "end-once"}

    bodies = {
        member_client.post(f"/api/rentals/{rental_id}/end/", {}, format="json", **key).content
        for _ in range(3)
    }

    assert len(bodies) == 1
    assert Invoice.objects.count() == 1
    assert Rental.objects.get().status == Rental.Status.ENDED


@pytest.mark.django_db
def test_invoice_filters_refuse_a_naive_instant(finance_client):
    response = finance_client.get("/api/invoices/", {"issued_from": "2026-06-01T00:00:00"})

    assert response.status_code == 400
