"""The periodic jobs the workers defer: the idempotency purge, stalled jobs, old jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.idempotency import tasks as idempotency_tasks
from api.idempotency.models import IdempotencyKey
from core import outbox
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_workers_schedule_the_purge_the_stalled_jobs_and_the_old_jobs():
    schedules = {
        periodic.task.name: periodic.cron
        for periodic in outbox.app().periodic_registry.periodic_tasks.values()
    }

    assert schedules == {
        "idempotency.purge_expired_keys": "7 * * * *",
        "core.retry_stalled_jobs": "* * * * * */30",
        "core.delete_old_jobs": "23 * * * *",
    }


def test_the_periodic_purge_deletes_keys_past_their_retention_only():
    user = UserFactory()
    now = timezone.now()
    for key, age in (("old", 49), ("young", 23)):
        IdempotencyKey.objects.create(
            user=user,
            key=key,
            fingerprint="f",
            claim="c",
            status=IdempotencyKey.Status.COMPLETED,
            created_at=now - timedelta(hours=age),
        )

    deleted = idempotency_tasks.purge_expired_keys.func(timestamp=int(now.timestamp()))

    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
