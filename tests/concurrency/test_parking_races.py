"""A pause racing an end of the same rental is serialised by the rental's row lock.

Either the pause lands first and is billed, or it is refused because the rental has ended:
never a parked interval after the invoice. The order is forced by holding the row lock in a
connection of our own while both requests queue behind it (PostgreSQL grants a row's lock
to its waiters in the order they came), then left to chance under a barrier.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connections

from core.errors import DomainError
from rentals import lifecycle
from rentals.models import ParkedInterval, Rental
from tests.concurrency.conftest import run_in_threads
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory
from tests.faults.servers import pg_connect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STARTED = datetime.fromisoformat("2026-06-01T10:00:00+02:00")
PAUSED = STARTED + timedelta(minutes=10)
ENDED = STARTED + timedelta(minutes=40)
NOW = STARTED + timedelta(hours=1)


@pytest.fixture
def rental():
    zone = ZoneFactory()
    TariffFactory(zone=zone, daily_cap=None, park_per_minute=Decimal("0.10"))
    member = MemberFactory()
    vehicle = VehicleFactory(zone=zone)
    return lifecycle.start_rental(member=member, plate=vehicle.plate, started_at=STARTED, now=NOW)


def pause(rental):
    return lifecycle.pause_rental(member=rental.member, rental_id=rental.pk, at=PAUSED, now=NOW)


def end(rental):
    return lifecycle.end_rental(member=rental.member, rental_id=rental.pk, ended_at=ENDED, now=NOW)


def outcome(call, rental):
    try:
        call(rental)
        return "done"
    except DomainError as refused:
        return refused.code
    finally:
        connections.close_all()


def waiting_on_locks(watcher) -> int:
    with watcher.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for_waiters(watcher, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while waiting_on_locks(watcher) < count:
        assert time.monotonic() < deadline, f"{count} requests never queued on the lock"
        time.sleep(0.01)


def in_order(rental, first, second) -> dict[str, str]:
    """Run ``first`` then ``second``, both queued behind a held row lock, in that order."""
    results: dict[str, str] = {}
    holder, watcher = pg_connect("lock-holder"), pg_connect("lock-watcher")
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM rentals_rental WHERE id = %s FOR UPDATE", [rental.pk])
        threads = []
        for position, call in enumerate((first, second), start=1):
            thread = threading.Thread(
                target=lambda call=call: results.__setitem__(call.__name__, outcome(call, rental))
            )
            thread.start()
            threads.append(thread)
            wait_for_waiters(watcher, position)
        holder.execute("COMMIT")
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        holder.close()
        watcher.close()
    return results


def test_a_pause_that_lands_before_the_end_is_billed(rental):
    results = in_order(rental, pause, end)

    ended = Rental.objects.get(pk=rental.pk)
    interval = ParkedInterval.objects.get(rental=rental)
    assert results == {"pause": "done", "end": "done"}
    assert (interval.paused_at, interval.resumed_at) == (PAUSED, ENDED)
    # 10 driving minutes at 0.35, 30 parked at 0.10, + 1.00.
    assert ended.invoice.total == Decimal("7.50")
    assert ended.invoice.lines.filter(kind="PARKED_MINUTES").get().quantity == 30


def test_a_pause_that_arrives_after_the_end_is_refused_and_nothing_is_parked(rental):
    results = in_order(rental, end, pause)

    assert results == {"end": "done", "pause": "rental_already_ended"}
    assert not ParkedInterval.objects.exists()
    assert Rental.objects.get(pk=rental.pk).invoice.total == Decimal("15.00")


def test_pauses_racing_ends_never_leave_a_parked_interval_after_the_invoice():
    zone = ZoneFactory()
    TariffFactory(zone=zone, daily_cap=None, park_per_minute=Decimal("0.10"))
    rentals = [
        lifecycle.start_rental(
            member=MemberFactory(),
            plate=VehicleFactory(zone=zone).plate,
            started_at=STARTED,
            now=NOW,
        )
        for _ in range(6)
    ]

    results = run_in_threads(
        2 * len(rentals),
        lambda index: outcome(pause if index % 2 else end, rentals[index // 2]),
    )

    assert set(results) <= {"done", "rental_already_ended"}, results
    for rental in Rental.objects.filter(pk__in=[r.pk for r in rentals]).select_related("invoice"):
        intervals = list(rental.parked_intervals.all())
        billed = rental.invoice.lines.filter(kind="PARKED_MINUTES")
        assert rental.status == Rental.Status.ENDED
        assert all(i.resumed_at is not None and i.resumed_at <= rental.ended_at for i in intervals)
        assert billed.count() == len(intervals)
