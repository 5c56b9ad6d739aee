"""Gapless numbering under real concurrency, crashes and hostile SQL, on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, connections, transaction

from billing import audit, invoicing, numbering
from billing.models import CreditNote, Invoice
from tests.concurrency.conftest import run_in_threads
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROCESSES, ISSUES_EACH = 8, 50
# Waits below are for conditions (a lock seen in pg_locks, an event); this bound only keeps
# a broken test from hanging the suite.
LOCK_WAIT_BOUND_SECONDS = 120


def _issue_many(user_id: int, offset: int, barrier) -> None:
    connections.close_all()  # never share the parent's socket
    barrier.wait(timeout=60)
    for index in range(ISSUES_EACH):
        issue(user_id, subject_id=offset + index)
    connections.close_all()


def test_8_processes_issuing_50_each_get_exactly_1_to_400_in_date_order():
    user = UserFactory()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=_issue_many, args=(user.pk, n * 1000, barrier))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    rows = list(Invoice.objects.order_by("sequence").values_list("sequence", "issued_at", "series"))
    assert len({series for _, _, series in rows}) == 1
    assert [sequence for sequence, _, _ in rows] == list(range(1, PROCESSES * ISSUES_EACH + 1))
    dates = [issued_at for _, issued_at, _ in rows]
    assert dates == sorted(dates), "issued_at goes backwards against numbers"
    (report,) = audit.audit_sequences()
    assert report.clean and report.count == 400


def _take_number_and_hang(series: str, ready) -> None:
    connections.close_all()
    with transaction.atomic():
        numbering.take_number(series)
        ready.set()
        signal.pause()  # holding the counter's row lock until killed


def test_a_process_killed_holding_the_number_leaves_no_gap_and_no_stuck_lock():
    user = UserFactory()
    first = issue(user.pk)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    holder = context.Process(target=_take_number_and_hang, args=(first.series, ready))
    holder.start()
    assert ready.wait(timeout=30)

    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=30)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '20s'")  # a stuck lock fails the test, not hangs it
    after = issue(user.pk)

    assert holder.exitcode == -signal.SIGKILL
    assert after.sequence == 2
    assert audit.audit_sequences()[0].clean


def _blocked_by(waiter_pid: int, holder_pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [holder_pid, waiter_pid])
        (blocked,) = cursor.fetchone()
    return bool(blocked)


def _wait_for(condition, what: str) -> None:
    """Poll ``condition`` until it holds; the bound only stops a broken test from hanging."""
    deadline = time.monotonic() + LOCK_WAIT_BOUND_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def test_a_waiting_issuer_takes_the_next_number_once_the_holder_rolls_back():
    user = UserFactory()
    first = issue(user.pk, prefix="WAIT", yearly=False)  # a continuous series: no year in it
    holding, roll_back = threading.Event(), threading.Event()
    pids: dict[str, int] = {}
    outcome: dict[str, object] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                outcome["held"] = numbering.take_number(first.series)
                pids["holder"] = connection.connection.info.backend_pid
                holding.set()
                assert roll_back.wait(LOCK_WAIT_BOUND_SECONDS), "never told to roll back"
                transaction.set_rollback(True)  # the insert failed: the number goes back
        except BaseException as exc:
            outcome["holder_error"] = exc
            holding.set()
        finally:
            connections.close_all()

    def waiter() -> None:
        try:
            connection.ensure_connection()
            pids["waiter"] = connection.connection.info.backend_pid
            outcome["issued"] = issue(user.pk, prefix="WAIT", yearly=False)
        except BaseException as exc:
            outcome["waiter_error"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    threads[0].start()
    assert holding.wait(LOCK_WAIT_BOUND_SECONDS) and "holder_error" not in outcome, outcome
    threads[1].start()
    # The waiter is queued on the counter row behind the holder, as PostgreSQL sees it.
    _wait_for(
        lambda: "waiter" in pids and _blocked_by(pids["waiter"], pids["holder"]),
        "the waiter blocked on the holder's counter row",
    )
    roll_back.set()
    for thread in threads:
        thread.join(LOCK_WAIT_BOUND_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"

    assert "holder_error" not in outcome and "waiter_error" not in outcome, outcome
    assert outcome["held"] == 2
    assert outcome["issued"].sequence == 2  # the number given back, so no gap
    assert list(
        Invoice.objects.filter(series=first.series)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    ) == [1, 2]
    (report,) = audit.audit_sequences(series=first.series)
    assert report.clean


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_invoice SET total = 0 WHERE id = %s",
        "DELETE FROM billing_invoice WHERE id = %s",
        "UPDATE billing_invoiceline SET amount = 0 WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
        "INSERT INTO billing_invoiceline (invoice_id, position, kind, local_date, minutes,"
        " amount, capped) VALUES (%s, 99, 'MINUTES', '2026-06-01', 1, 100, false)",
    ],
    ids=["update-invoice", "delete-invoice", "update-line", "delete-line", "add-line"],
)
def test_raw_sql_cannot_update_or_delete_an_issued_invoice(statement):
    invoice = issue(UserFactory().pk)

    with pytest.raises(DatabaseError, match="immutable"), connection.cursor() as cursor:
        cursor.execute(statement, [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("8.00")


def test_raw_sql_cannot_update_a_credit_note():
    user = UserFactory()
    invoice = issue(user.pk)
    note = invoicing.issue_credit_note(
        invoice_number=invoice.number, amount=Decimal("1.00"), reason="x", issued_by_id=user.pk
    )

    with pytest.raises(DatabaseError, match="immutable"), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_creditnote SET total = 8 WHERE id = %s", [note.pk])
    assert CreditNote.objects.get(pk=note.pk).total == Decimal("1.00")


def test_a_one_byte_edit_with_the_trigger_disabled_is_found_by_the_hash_chain():
    user = UserFactory()
    invoices = [issue(user.pk) for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE billing_invoice DISABLE TRIGGER billing_invoice_immutable")
        try:
            cursor.execute(
                "UPDATE billing_invoice SET billing_name = 'Alice Martio' WHERE id = %s",
                [invoices[1].pk],
            )
        finally:
            cursor.execute("ALTER TABLE billing_invoice ENABLE TRIGGER billing_invoice_immutable")

    (report,) = audit.audit_sequences()

    assert not report.hash_chain_ok
    assert report.first_broken_link == invoices[1].number
    assert not report.clean


def test_concurrent_credit_notes_never_exceed_the_invoice_total():
    user = UserFactory()
    invoice = issue(user.pk)  # 8.00

    def credit(index):
        return invoicing.issue_credit_note(
            invoice_number=invoice.number,
            amount=Decimal("3.00"),
            reason=f"#{index}",
            issued_by_id=user.pk,
        )

    results = run_in_threads(10, credit)

    issued = [r for r in results if isinstance(r, CreditNote)]
    refused = [r for r in results if isinstance(r, invoicing.CreditExceedsInvoice)]
    assert (len(issued), len(refused)) == (2, 8), results
    assert sorted(note.sequence for note in issued) == [1, 2]
