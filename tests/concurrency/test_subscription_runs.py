"""Invoice runs on PostgreSQL: killed mid-batch and resumed, and two hosts at once.

Each run is a process of its own running ``manage.py bill_subscriptions`` (through
tests/concurrency/billing_run.py), against the test database.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from billing import audit
from billing.models import Invoice
from fleet.models import PassProduct, Subscription, SubscriptionPeriod
from tests.factories import MemberFactory, TariffFactory, UserFactory, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
# 2 November 2026, 09:00 in Paris: every subscription's first period (from 1 November) is due.
NOW = "2026-11-02T08:00:00Z"
UNTIL = "2026-11-02T00:00:00Z"
START = date(2026, 11, 1)
STARTED_AT = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Hundreds of members: the real hasher would take most of the test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}"


def run(*options: str, until: str = UNTIL, batch_size: int = 60) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if key != "TESTING"}
    env.update(DATABASE_URL=database_url(), SECRET_KEY="test", LOG_LEVEL="ERROR")
    return subprocess.Popen(
        [
            sys.executable, "-m", "tests.concurrency.billing_run", "--now", NOW, *options,
            "--", "--until", until, "--batch-size", str(batch_size),
        ],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=240)
    return process.returncode, out, err


def subscriptions(count: int) -> list[Subscription]:
    zone = ZoneFactory()
    TariffFactory(zone=zone, plan="pass")
    product = PassProduct.objects.create(
        zone=zone, code="monthly", label="Paris monthly pass", monthly_price=Decimal("19.90"),
        plan="pass", created_at=STARTED_AT - timedelta(days=30),
    )  # fmt: skip
    seller = UserFactory()
    return Subscription.objects.bulk_create(
        Subscription(
            member=MemberFactory(), product=product, start_date=START, started_at=STARTED_AT,
            next_period_starts_at=STARTED_AT, subscribed_by=seller, created_at=STARTED_AT,
        )
        for _ in range(count)
    )  # fmt: skip


def billed_exactly_once_without_a_gap(count: int) -> None:
    periods = list(SubscriptionPeriod.objects.values_list("subscription_id", "index"))
    assert len(periods) == len(set(periods)) == count
    assert {index for _, index in periods} == {0}
    subjects = list(Invoice.objects.values_list("subject_kind", "subject_id"))
    assert len(subjects) == len(set(subjects)) == count
    assert {kind for kind, _ in subjects} == {"subscription_period"}
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, count + 1))
    assert set(SubscriptionPeriod.objects.values_list("pk", flat=True)) == {
        subject for _, subject in subjects
    }
    (report,) = audit.audit_sequences()
    assert report.clean and report.count == count, report


def summary_of(out: str) -> tuple[int, int, int]:
    found = re.search(r"Billed (\d+) period\(s\).*skipped (\d+) already billed; failed (\d+)", out)
    assert found, out
    billed, skipped, failed = found.groups()
    return int(billed), int(skipped), int(failed)


def test_a_run_killed_mid_batch_then_resumed_bills_each_period_once_without_a_gap():
    subscriptions(150)

    killed = finished(run("--kill-at-batch", "2"))
    assert killed[0] == -signal.SIGKILL, killed
    # The first batch committed; the second died inside its transaction, numbers and all.
    assert SubscriptionPeriod.objects.count() == Invoice.objects.count() == 60
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 61))
    assert audit.audit_sequences()[0].clean

    resumed = finished(run())

    assert resumed[0] == 0, resumed
    assert summary_of(resumed[1]) == (90, 60, 0)
    billed_exactly_once_without_a_gap(150)
    again = finished(run())
    assert summary_of(again[1]) == (0, 150, 0)
    billed_exactly_once_without_a_gap(150)


def test_two_runs_started_at_once_on_two_hosts_bill_each_period_once_and_leave_none(tmp_path):
    subscriptions(240)

    hosts = [
        run("--barrier", str(tmp_path), "--parties", "2", "--pause", "0.02", batch_size=10)
        for _ in range(2)
    ]
    results = [finished(host) for host in hosts]

    assert [code for code, _, _ in results] == [0, 0], results
    summaries = [summary_of(out) for _, out, _ in results]
    assert sum(billed for billed, _, _ in summaries) == 240
    # Both hosts did part of the work: the runs really overlapped.
    assert all(billed > 0 for billed, _, _ in summaries), summaries
    billed_exactly_once_without_a_gap(240)


def test_a_run_that_found_nothing_due_exits_cleanly():
    subscriptions(3)

    code, out, _ = finished(run(until="2026-10-31T23:00:00Z"))

    assert code == 0
    assert summary_of(out) == (0, 0, 0)
    assert not Invoice.objects.exists()
