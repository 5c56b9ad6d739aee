"""Idempotency keys: failures free the key, dead owners are taken over, old keys are purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from api.idempotency.models import IdempotencyKey
from rentals import lifecycle
from rentals.models import Rental

pytestmark = pytest.mark.django_db
NOW = "2026-06-01T12:00:00+02:00"


def start(client, vehicle, key):
    return client.post(
        "/api/rentals/", {"vehicle": vehicle.plate}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


@time_machine.travel(NOW, tick=False)
def test_a_server_error_frees_the_key_so_the_retry_does_the_work(
    member_client, vehicle, tariff, monkeypatch
):
    real_start = lifecycle.start_rental
    monkeypatch.setattr(lifecycle, "start_rental", lambda **kw: 1 / 0)
    member_client.raise_request_exception = False

    failed = start(member_client, vehicle, "k1")
    monkeypatch.setattr(lifecycle, "start_rental", real_start)
    retried = start(member_client, vehicle, "k1")

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert Rental.objects.count() == 1
    assert IdempotencyKey.objects.get().status == IdempotencyKey.Status.COMPLETED


@time_machine.travel(NOW, tick=False)
def test_a_refusal_is_replayed_like_any_other_answer(member_client, vehicle):
    first = start(member_client, vehicle, "k2")  # no tariff yet: 409 no_tariff

    replay = start(member_client, vehicle, "k2")

    assert first.status_code == replay.status_code == 409
    assert replay.content == first.content


@time_machine.travel(NOW, tick=False)
def test_a_request_whose_owner_died_is_taken_over_after_the_takeover_delay(
    member_client, member, vehicle, tariff, settings
):
    settings.IDEMPOTENCY = {
        **settings.IDEMPOTENCY,
        "WAIT_SECONDS": 0.2,
        "TAKEOVER_SECONDS": 0.5,
    }
    IdempotencyKey.objects.create(
        user=member.user, key="k3", fingerprint=_fingerprint_of_start(vehicle), claim="dead",
        status=IdempotencyKey.Status.IN_PROGRESS, created_at=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip

    response = start(member_client, vehicle, "k3")

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().claim != "dead"


@time_machine.travel(NOW, tick=False)
def test_a_replay_gives_up_waiting_for_a_live_first_request_with_409(
    member_client, member, vehicle, tariff, settings
):
    settings.IDEMPOTENCY = {**settings.IDEMPOTENCY, "WAIT_SECONDS": 0.2}
    IdempotencyKey.objects.create(
        user=member.user, key="k4", fingerprint=_fingerprint_of_start(vehicle), claim="alive",
        status=IdempotencyKey.Status.IN_PROGRESS, created_at=timezone.now(),
    )  # fmt: skip

    response = start(member_client, vehicle, "k4")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert not Rental.objects.exists()


@pytest.mark.parametrize("key", ["", " ", "x" * 256])
def test_an_empty_or_oversized_key_is_refused(member_client, vehicle, tariff, key):
    response = start(member_client, vehicle, key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


def test_keys_are_kept_at_least_24_hours_then_purged(member, settings):
    settings.IDEMPOTENCY = {**settings.IDEMPOTENCY, "KEEP_HOURS": 1}
    now = timezone.now()
    for key, age in (("young", timedelta(hours=23)), ("old", timedelta(hours=25))):
        IdempotencyKey.objects.create(
            user=member.user, key=key, fingerprint="f", claim="c",
            status=IdempotencyKey.Status.COMPLETED, created_at=now - age,
        )  # fmt: skip

    call_command("purge_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]


def _fingerprint_of_start(vehicle):
    import hashlib
    import json

    body = json.dumps({"vehicle": vehicle.plate}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"POST\n/api/rentals/\n{body}".encode()).hexdigest()
