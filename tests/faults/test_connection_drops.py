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


def test_a_connection_dropped_after_the_commit_still_answers_and_the_retry_replays_it(
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
    monkeypatch.setattr(lifecycle, "end_rental", real_end_rental)
    # The answer comes from what the use case returned, without another query; storing it
    # meets the dead connection and runs once more on a new one, so the key is not stuck.
    assert first.status_code == 200, first.content
    assert Rental.objects.get(pk=rental["id"]).status == Rental.Status.ENDED
    stored = IdempotencyKey.objects.get()
    assert (stored.status, bytes(stored.response_body)) == (
        IdempotencyKey.Status.COMPLETED,
        first.content,
    )

    retry = client.post(
        f"/api/rentals/{rental['id']}/end/", end, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert (retry.status_code, retry.content) == (200, first.content)
    assert retry["Idempotent-Replayed"] == "true"
