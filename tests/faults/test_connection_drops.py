"""A database connection dropped at the worst moments: the idempotency key must not stick."""

from __future__ import annotations

import pytest
from django.db import connection

from api.idempotency.models import IdempotencyKey
from rentals import lifecycle
from rentals.models import Rental
from tests.conftest import client_for
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory
from tests.faults.servers import pg_connect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_connection_dropped_after_the_commit_frees_the_key_for_an_immediate_retry(
    monkeypatch, settings
):
    settings.IDEMPOTENCY = {
        **settings.IDEMPOTENCY,
        "WAIT_SECONDS": 0.5,
        "TAKEOVER_SECONDS": 60,
    }
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    car = VehicleFactory(zone=zone)
    client = client_for(MemberFactory().user)
    rental = client.post("/api/rentals/", {"vehicle": car.plate}, format="json").json()
    end = {"ended_at": rental["started_at"]}
    real_end_rental = lifecycle.end_rental

    def end_then_lose_the_connection(**kwargs):
        ended = real_end_rental(**kwargs)  # committed
        with pg_connect() as other:
            # With a timeout, PostgreSQL returns once the backend is gone, not when the
            # signal is sent: the view's next query meets a dead connection however busy
            # the machine is.
            (gone,) = other.execute(
                "SELECT pg_terminate_backend(%s, 60000)",
                [connection.connection.info.backend_pid],
            ).fetchone()
        assert gone, "the backend outlived its termination"
        return ended

    monkeypatch.setattr(lifecycle, "end_rental", end_then_lose_the_connection)
    client.raise_request_exception = False
    first = client.post(
        f"/api/rentals/{rental['id']}/end/", end, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    connection.close()  # as close_old_connections does when the next request starts
    monkeypatch.setattr(lifecycle, "end_rental", real_end_rental)
    assert first.status_code == 500
    assert Rental.objects.get(pk=rental["id"]).status == Rental.Status.ENDED

    retry = client.post(
        f"/api/rentals/{rental['id']}/end/", end, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert not IdempotencyKey.objects.filter(status=IdempotencyKey.Status.IN_PROGRESS).exists()
    assert retry.status_code == 200, retry.content
