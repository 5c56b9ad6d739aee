"""The periodic jobs the workers run: purges, stalled and old jobs, pass runs, closings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from api import tasks as api_tasks
from api.idempotency import tasks as idempotency_tasks
from api.idempotency.models import IdempotencyKey
from api.models import LoginFailure
from billing import tasks as billing_tasks
from billing.accounting.models import Closing
from billing.models import Invoice
from core import outbox
from fleet import passes
from fleet import tasks as fleet_tasks
from tests.books import invoice_at
from tests.factories import MemberFactory, TariffFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db


def test_the_workers_schedule_the_purge_the_stalled_jobs_and_the_old_jobs():
    schedules = {
        periodic.task.name: periodic.cron
        for periodic in outbox.app().periodic_registry.periodic_tasks.values()
    }

    assert schedules == {
        "idempotency.purge_expired_keys": "7 * * * *",
        "api.purge_login_failures": "37 * * * *",
        "core.retry_stalled_jobs": "* * * * * */30",
        "core.delete_old_jobs": "23 * * * *",
        "fleet.bill_subscriptions": "*/10 * * * *",
        "billing.close_due_periods": "*/15 * * * *",
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


def test_the_periodic_pass_run_invoices_the_periods_that_have_started():
    zone = ZoneFactory()
    TariffFactory(zone=zone, plan="pass")
    sold_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    product = passes.publish_pass(
        zone=zone, code="monthly", label="Monthly", monthly_price=Decimal("19.90"),
        plan="pass", now=sold_at,
    )  # fmt: skip
    passes.subscribe(
        member=MemberFactory(), product=product, start_date=date(2026, 3, 2),
        subscribed_by_id=UserFactory().pk, now=sold_at,
    )  # fmt: skip

    with time_machine.travel(datetime(2026, 3, 2, 9, 5, tzinfo=UTC), tick=False):
        billed = fleet_tasks.bill_subscriptions.func(timestamp=0)
        again = fleet_tasks.bill_subscriptions.func(timestamp=0)

    assert (billed, again) == (1, 0)
    assert Invoice.objects.get().total == Decimal("19.90")


def test_the_periodic_closing_closes_the_days_that_have_ended(db_clock):
    invoice_at(db_clock, datetime(2026, 6, 1, 10, 0, tzinfo=UTC), UserFactory().pk)
    db_clock.now = datetime(2026, 6, 1, 22, 5, tzinfo=UTC)  # 00:05 in Paris, the next day

    with time_machine.travel(db_clock.now, tick=False):
        made = billing_tasks.close_due_periods.func(timestamp=0)

    assert made == 1
    assert list(Closing.objects.values_list("kind", "start_date")) == [("DAY", date(2026, 6, 1))]


def test_the_periodic_purge_forgets_failed_logins_past_their_retention_only(settings):
    now = timezone.now()
    for username, age in (("old", timedelta(days=3)), ("young", timedelta(minutes=5))):
        LoginFailure.objects.create(username=username, address="192.0.2.1", failed_at=now - age)

    deleted = api_tasks.purge_login_failures.func(timestamp=int(now.timestamp()))

    assert deleted == 1
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["young"]
