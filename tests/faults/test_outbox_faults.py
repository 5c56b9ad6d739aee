"""The outbox under faults: workers killed mid-render and mid-delivery, a receiver that fails
then recovers, the database terminating the workers' connections.

Rentals are ended and credit notes issued (their jobs commit with them); two worker
processes (tests/faults/faulty_worker.py, i.e. ``manage.py procrastinate worker``) run the
jobs, restarted like a supervisor would whenever one exits. Meanwhile:

- a worker is SIGKILLed while storing a document, half its file written;
- a worker is SIGKILLed after a webhook was sent, before it recorded the delivery;
- PostgreSQL terminates every connection of the workers (pg_terminate_backend);
- the receiver answers 500 to its first requests, then recovers.

Afterwards every issued document has exactly one stored file whose SHA-256 matches, every
event was delivered at least once, and the receiver's deduplicated log holds exactly one
entry per event. Every wait is on a condition, with a bounded timeout.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from billing import invoicing
from billing.models import CreditNote, Invoice, StoredDocument
from rentals import lifecycle
from tests.documents import reset_jobs
from tests.factories import (
    MORNING,
    MemberFactory,
    TariffFactory,
    UserFactory,
    VehicleFactory,
    ZoneFactory,
)
from tests.faults.conftest import REPORTS
from tests.faults.servers import ROOT, database_url, pg_connect
from tests.receiver import Receiver, dumps
from webhooks import endpoints
from webhooks.models import EVENT_TYPE_NAMES, Delivery, Event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RENTALS, CREDIT_NOTES, WORKERS = 4, 2, 2
RECEIVER_FAILS_FIRST = 5
DEADLINE_SECONDS = 180
APPLICATION_NAME = "outbox-worker-"


class Workers:
    """Worker processes kept running like a supervisor would: an exited one is replaced."""

    def __init__(self, env: dict[str, str], log: Path, fault_dir: Path) -> None:
        self.env = env
        self.log = log
        self.fault_dir = fault_dir
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.started = 0
        self.exited: list[int | None] = []

    def start(self) -> None:
        self.started += 1
        env = {**self.env, "PGAPPNAME": f"{APPLICATION_NAME}{self.started}"}
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.faulty_worker", "--concurrency", "1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes[process.pid] = process

    def keep(self, count: int) -> None:
        """Replace the workers that exited, up to ``count`` running."""
        for pid, process in list(self.processes.items()):
            if process.poll() is not None:
                self.exited.append(process.returncode)
                del self.processes[pid]
        while len(self.processes) < count:
            self.start()

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self.processes[pid].wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-60:])


def _wait(condition: Callable[[], object], what: str, workers: Workers, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers.keep(WORKERS)
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{workers.log_tail()}")


def _marker(fault_dir: Path, fault: str) -> Callable[[], int | None]:
    def found() -> int | None:
        for path in fault_dir.glob(f"{fault}.*"):
            if path.suffix != ".armed":
                return int(path.read_text())
        return None

    return found


@pytest.fixture
def documents_dir(tmp_path, settings) -> Path:
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_HTTP": True, "ALLOW_PRIVATE_ADDRESSES": True}
    root = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            **settings.STORAGES["documents"],
            "OPTIONS": {**settings.STORAGES["documents"]["OPTIONS"], "location": str(root)},
        },
    }
    return root


@pytest.fixture
def workers(tmp_path, documents_dir) -> Iterator[Workers]:
    reset_jobs()
    fault_dir = tmp_path / "faults"
    fault_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DOCUMENTS_ROOT": str(documents_dir),
        "FAULT_DIR": str(fault_dir),
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "WEBHOOK_BACKOFF_SECONDS": "0.5",
        "WEBHOOK_MAX_ATTEMPTS": "30",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        # A killed worker's jobs run again 2 s after its last heartbeat; looked for each second.
        "OUTBOX_STALLED_AFTER_SECONDS": "2",
        "OUTBOX_STALLED_CRON": "* * * * * *",
        "OUTBOX_POLL_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
    }
    pool = Workers(env, tmp_path / "workers.log", fault_dir)
    try:
        yield pool
    finally:
        pool.stop()
        reset_jobs()


def _issue_documents() -> tuple[list[Invoice], list[CreditNote], int]:
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    finance = UserFactory()
    started = MORNING
    rentals = []
    for _ in range(RENTALS):
        member = MemberFactory()
        rental = lifecycle.start_rental(
            member=member, plate=VehicleFactory(zone=zone).plate, started_at=None, now=started
        )
        rentals.append(
            lifecycle.end_rental(
                member=member,
                rental_id=rental.pk,
                ended_at=None,
                now=started + timedelta(minutes=20),
            )
        )
    invoices = [rental.invoice for rental in rentals]
    notes = [
        invoicing.issue_credit_note(
            invoice_number=invoice.number,
            amount=Decimal("1.00"),
            reason="goodwill",
            issued_by_id=finance.pk,
        )
        for invoice in invoices[:CREDIT_NOTES]
    ]
    # Per rental: started, ended, invoice issued, document rendered; per credit note: two.
    return invoices, notes, RENTALS * 4 + CREDIT_NOTES * 2


def _terminate_worker_connections() -> int:
    with pg_connect() as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE %s",
            [f"{APPLICATION_NAME}%"],
        ).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


def test_every_document_is_stored_once_and_every_event_delivered_despite_faults(workers):
    with Receiver(endpoints.new_secret(), fail_first=RECEIVER_FAILS_FIRST) as receiver:
        endpoints.register_endpoint(
            url=receiver.url,
            event_types=sorted(EVENT_TYPE_NAMES),
            secret=receiver.secret,
            description="fault test",
            created_by_id=UserFactory().pk,
            now=timezone.now(),
        )
        invoices, notes, expected_events = _issue_documents()
        documents = len(invoices) + len(notes)

        workers.keep(WORKERS)
        rendering = _wait(
            _marker(workers.fault_dir, "rendering"), "a worker storing a file", workers, 60
        )
        workers.kill(rendering)
        delivering = _wait(
            _marker(workers.fault_dir, "delivering"), "a worker delivering", workers, 90
        )
        workers.kill(delivering)
        # Once every worker has connected again, the database drops all their connections.
        _wait(lambda: StoredDocument.objects.count() >= 2, "two stored documents", workers, 90)
        terminated = _wait(_terminate_worker_connections, "worker connections", workers, 30)

        def done() -> bool:
            return (
                StoredDocument.objects.count() == documents
                and Event.objects.count() == expected_events
                and not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()
                and len(receiver.snapshot().log) == expected_events
            )

        _wait(done, "every document stored and every event delivered", workers, DEADLINE_SECONDS)
        received = receiver.snapshot()

    stored = list(StoredDocument.objects.select_related("invoice", "credit_note"))
    numbers = sorted(doc.number for doc in (*invoices, *notes))
    assert sorted((s.invoice or s.credit_note).number for s in stored) == numbers
    root = Path(workers.env["DOCUMENTS_ROOT"])
    on_disk = sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()
    )
    # Exactly one file per document: the torn one was replaced, nothing else written.
    assert on_disk == sorted(s.storage_name for s in stored)
    for record in stored:
        data = (root / record.storage_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record.sha256, record.storage_name
        assert data.startswith(b"%PDF-1.7")
    event_ids = set(Event.objects.values_list("id", flat=True))
    assert len(event_ids) == expected_events
    assert {event_id.split(":")[0] for event_id in event_ids} == EVENT_TYPE_NAMES
    # Delivered at least once each; deduplicated by id, exactly once each.
    assert set(received.log) == event_ids, dumps(received)
    delivered_ids = [request["id"] for request in received.requests]
    assert set(delivered_ids) == event_ids
    assert len(delivered_ids) > len(event_ids)  # failures and the killed delivery: resent
    assert received.bad_signatures == 0
    assert received.refused == RECEIVER_FAILS_FIRST
    REPORTS["outbox faults"] = {
        "documents stored": len(stored),
        "events": len(event_ids),
        "requests received (with redeliveries)": len(delivered_ids),
        "receiver failures": received.refused,
        "workers SIGKILLed (rendering, delivering)": 2,
        "worker connections terminated": terminated,
        "workers started": workers.started,
    }
