"""Ending rentals across app servers while numbering fails, workers die and connections drop.

Two gunicorn servers share the test database. Client threads end a few hundred rentals
through both, each end carrying an Idempotency-Key and retried with it on 5xx, connection
errors and 409 ``idempotency_request_in_progress``. Meanwhile:

- numbering raises after taking the number, at random (tests/faults/faulty_wsgi.py);
- a gunicorn worker inside a numbering transaction is killed with SIGKILL;
- a database backend inside a numbering transaction is terminated (pg_terminate_backend).

Meanwhile too, a closer waits for the issues in flight of the zone again and again, as
every closing does before it counts a period.

Afterwards every series must be gapless from 1, every rental ended exactly once with its
invoice, every request answered 200, and every replay must give the first answer's bytes;
the journal must balance without a gap, every invoice posted once, and the day's closing,
made once the day has ended, must total the invoices to the cent.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Sum
from django.utils import timezone
from rest_framework.authtoken.models import Token

from api.idempotency.models import IdempotencyKey
from billing import audit
from billing.accounting import closings
from billing.models import Closing, CreditNote, Invoice, JournalEntry, JournalLine
from core import clock
from fleet.models import Member, Vehicle
from rentals.models import Rental
from tests.factories import TariffFactory, ZoneFactory
from tests.faults.conftest import REPORTS
from tests.faults.servers import APPLICATION_NAME_PREFIX, Gunicorn, database_url, pg_connect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RENTALS = 300
DUPLICATE_EVERY = 10  # every 10th end is also sent by a second client with the same key
SERVERS, WORKERS_PER_SERVER = 2, 2
CLIENT_THREADS = 12
FAULT_RATE = 0.1
KILLS, TERMINATIONS = 4, 6  # wanted; at least MIN_EACH of each must land
MIN_EACH = 2
MAX_ATTEMPTS = 80
# A replay of a key whose owner died waits this long, and takes the key over after twice it.
IDEMPOTENCY_WAIT_SECONDS = 1

# Backends of our workers inside a numbering transaction: the series counter row is theirs.
IN_NUMBERING_TRANSACTION = """
    SELECT a.pid, a.application_name
      FROM pg_stat_activity a
     WHERE a.datname = current_database()
       AND a.pid <> pg_backend_pid()
       AND a.application_name LIKE %s
       AND a.state IN ('active', 'idle in transaction')
       AND EXISTS (
             SELECT 1 FROM pg_locks l
              WHERE l.pid = a.pid AND l.relation = 'sequences_sequence'::regclass)
     ORDER BY random()
     LIMIT 1
"""


@dataclass(frozen=True)
class Job:
    rental_id: int
    token: str
    ended_at: str
    key: str

    @property
    def path(self) -> str:
        return f"/api/rentals/{self.rental_id}/end/"

    @property
    def body(self) -> bytes:
        return json.dumps({"ended_at": self.ended_at}).encode()

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Token {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": self.key,
        }


@dataclass
class Outcome:
    job: Job
    status: int | None
    body: bytes
    attempts: int
    failures: Counter[str] = field(default_factory=Counter)


def _post(port: int, job: Job) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", job.path, body=job.body, headers=job.headers())
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _code(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("code") if isinstance(data, dict) else None


def end_with_retries(job: Job, servers: list[Gunicorn]) -> Outcome:
    """End a rental as a phone would: same key on every retry, alternating servers."""
    failures: Counter[str] = Counter()
    status: int | None = None
    body = b""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        server = servers[(job.rental_id + attempt) % len(servers)]
        try:
            status, body = _post(server.port, job)
        except (OSError, http.client.HTTPException):
            failures["connection_error"] += 1
            status, body = None, b""
        else:
            if status == 200:
                return Outcome(job, status, body, attempt, failures)
            if status >= 500:
                failures[f"http_{status}"] += 1
            elif status == 409 and _code(body) == "idempotency_request_in_progress":
                failures["http_409_in_progress"] += 1
            else:
                break  # a refusal no retry can change: reported by the test
        time.sleep(min(0.5, 0.02 * attempt) + random.uniform(0, 0.05))
    return Outcome(job, status, body, attempt, failures)


class Injector(threading.Thread):
    """Repeat ``act`` until it succeeded ``wanted`` times or ``stop`` is set; count them."""

    def __init__(
        self, name: str, act: Callable[[psycopg.Connection], bool], wanted: int, spacing: float
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.act, self.wanted, self.spacing = act, wanted, spacing
        self.stop = threading.Event()
        self.done = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with pg_connect() as connection:
                while self.done < self.wanted and not self.stop.is_set():
                    if self.act(connection):
                        self.done += 1
                        self.stop.wait(self.spacing)
                    else:
                        self.stop.wait(0.01)
        except BaseException as exc:
            self.error = exc


def terminate_a_backend_in_numbering(connection: psycopg.Connection) -> bool:
    """Terminate one of our workers' backends while it holds the series counter."""
    row = connection.execute(IN_NUMBERING_TRANSACTION, [f"{APPLICATION_NAME_PREFIX}%"]).fetchone()
    if row is None:
        return False
    (terminated,) = connection.execute("SELECT pg_terminate_backend(%s)", [row[0]]).fetchone()
    return bool(terminated)


def killer(servers: list[Gunicorn]) -> Callable[[psycopg.Connection], bool]:
    """Return an action that SIGKILLs a worker (of our servers only) inside numbering."""

    def kill_a_worker_in_numbering(connection: psycopg.Connection) -> bool:
        row = connection.execute(
            IN_NUMBERING_TRANSACTION, [f"{APPLICATION_NAME_PREFIX}%"]
        ).fetchone()
        if row is None:
            return False
        pid = int(row[1].removeprefix(APPLICATION_NAME_PREFIX))
        if not any(pid in server.worker_pids() for server in servers):
            return False
        os.kill(pid, signal.SIGKILL)
        return True

    return kill_a_worker_in_numbering


class Closer(threading.Thread):
    """Wait for the issues in flight of a zone, again and again, as each closing does first."""

    def __init__(self, scope: closings.Scope) -> None:
        super().__init__(name="closer", daemon=True)
        self.scope = scope
        self.stop = threading.Event()
        self.passed = self.postponed = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if closings.wait_for_issues_in_flight(self.scope) is None:
                    self.postponed += 1
                else:
                    self.passed += 1
                self.stop.wait(0.05)
        except BaseException as exc:
            self.error = exc
        finally:
            connections.close_all()


def open_rentals(count: int) -> list[Job]:
    """Commit ``count`` members, each with a token and one open rental of its own vehicle."""
    zone = ZoneFactory()
    tariff = TariffFactory(zone=zone)
    now = timezone.now().replace(microsecond=0)
    started_at = now - timedelta(hours=3)
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"fault-member-{i}", password="!") for i in range(count)]
    )
    members = Member.objects.bulk_create(
        [
            Member(
                user=user,
                plan="standard",
                billing_name=f"Member {i}",
                billing_address="1 rue de Rivoli, 75001 Paris",
                created_at=now,
            )
            for i, user in enumerate(users)
        ]
    )
    tokens = Token.objects.bulk_create(
        [Token(key=Token.generate_key(), user=user) for user in users]
    )
    vehicles = Vehicle.objects.bulk_create(
        [Vehicle(plate=f"FI-{i:04d}", zone=zone, created_at=now) for i in range(count)]
    )
    rentals = Rental.objects.bulk_create(
        [
            Rental(
                member=member,
                vehicle=vehicle,
                tariff=tariff,
                started_at=started_at,
                created_at=now,
            )
            for member, vehicle in zip(members, vehicles, strict=True)
        ]
    )
    return [
        Job(
            rental_id=rental.pk,
            token=token.key,
            ended_at=(started_at + timedelta(minutes=17 + i % 120))
            .astimezone(UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            key=f"end-{rental.pk}-{i}",
        )
        for i, (rental, token) in enumerate(zip(rentals, tokens, strict=True))
    ]


@pytest.fixture
def fault_log(tmp_path: Path) -> Path:
    return tmp_path / "faults.log"


@pytest.fixture
def servers(tmp_path: Path, fault_log: Path) -> Iterator[list[Gunicorn]]:
    env = {
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "faults-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "TESTING": "1",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
        "FAULT_RATE": str(FAULT_RATE),
        "FAULT_LOG": str(fault_log),
        "IDEMPOTENCY_WAIT_SECONDS": str(IDEMPOTENCY_WAIT_SECONDS),
        # Killed workers leave keys IN_PROGRESS: take them over within seconds here.
        "IDEMPOTENCY_TAKEOVER_SECONDS": str(2 * IDEMPOTENCY_WAIT_SECONDS),
    }
    started = [
        Gunicorn(
            app="tests.faults.faulty_wsgi:application",
            workers=WORKERS_PER_SERVER,
            env=env,
            log_path=tmp_path / f"gunicorn-{index}.log",
        )
        for index in range(SERVERS)
    ]
    try:
        for server in started:
            server.start()
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()
        # Whatever survived must not keep pytest-django from dropping the test database.
        with pg_connect() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND application_name LIKE %s",
                [f"{APPLICATION_NAME_PREFIX}%"],
            )


def test_ends_across_two_servers_survive_numbering_faults_killed_workers_and_dropped_connections(
    servers, fault_log, record_property, monkeypatch
):
    jobs = open_rentals(RENTALS)
    zone = Rental.objects.select_related("tariff__zone").first().tariff.zone
    closer = Closer(
        closings.Scope(
            seller_vat_id=settings.BILLING["SELLER_VAT_ID"],
            series_prefix=zone.invoice_prefix,
            time_zone=zone.time_zone,
            currency=zone.currency,
        )
    )
    duplicates = jobs[::DUPLICATE_EVERY]
    work = list(jobs)
    random.Random(42).shuffle(work)
    for duplicate in duplicates:  # right after the original, so that the two overlap
        work.insert(work.index(duplicate) + 1, duplicate)

    injectors = [
        Injector("sigkill", killer(servers), wanted=KILLS, spacing=0.4),
        Injector("terminate", terminate_a_backend_in_numbering, TERMINATIONS, spacing=0.25),
    ]
    started = time.monotonic()
    for thread in (*injectors, closer):
        thread.start()
    try:
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            outcomes = list(pool.map(lambda job: end_with_retries(job, servers), work))
    finally:
        for thread in (*injectors, closer):
            thread.stop.set()
            thread.join(timeout=30)
    load_seconds = time.monotonic() - started
    kills, terminations = (injector.done for injector in injectors)
    for server in servers:  # gunicorn replaced the killed workers; replays go to fresh ones too
        server.wait_ready()
    replays = {job.key: _post(servers[job.rental_id % SERVERS].port, job) for job in jobs}

    injected = fault_log.read_text().splitlines() if fault_log.exists() else []
    failures = sum((outcome.failures for outcome in outcomes), Counter())
    retried = [outcome for outcome in outcomes if outcome.attempts > 1]
    rentals = list(Rental.objects.values_list("pk", "status", "invoice_id", "ended_at"))
    invoices = list(Invoice.objects.values_list("pk", "subject_kind", "subject_id", "number"))
    reports = audit.audit_sequences()
    entries = list(JournalEntry.objects.values_list("journal_code", "fiscal_year", "number"))
    debit, credit = JournalLine.objects.aggregate(Sum("debit"), Sum("credit")).values()
    # The next day, once the load's day has ended by the database clock, its closing is made.
    real_database_clock = clock.read_database_clock
    tomorrow = real_database_clock() + timedelta(days=1)
    monkeypatch.setattr(clock, "read_database_clock", lambda: tomorrow)
    closings.close_due_periods(now=tomorrow)
    days = list(Closing.objects.filter(kind="DAY").order_by("sequence"))
    invoiced = Invoice.objects.aggregate(Sum("total"), Sum("net"), Sum("vat"))
    accounts = audit.audit_accounts()
    keys = Counter(IdempotencyKey.objects.values_list("status", "response_status"))
    counts = {
        "rentals ended (requests, of which same-key duplicates)": (
            f"{len(jobs)} ({len(work)}, {len(duplicates)})"
        ),
        "client threads / servers x workers": (
            f"{CLIENT_THREADS} / {SERVERS} x {WORKERS_PER_SERVER}"
        ),
        "load seconds": f"{load_seconds:.1f}",
        "rentals in database / ended / invoices": (
            f"{len(rentals)} / {sum(s == Rental.Status.ENDED for _, s, _, _ in rentals)}"
            f" / {len(invoices)}"
        ),
        "series audited (clean)": ", ".join(
            f"{report.series} {report.first}..{report.last} n={report.count}"
            f" ({'clean' if report.clean else 'NOT CLEAN'})"
            for report in reports
        ),
        "injected numbering faults (rolled back after taking a number)": len(injected),
        "workers killed with SIGKILL inside numbering": kills,
        "backends terminated inside numbering": terminations,
        "client failures seen, by kind": dict(sorted(failures.items())),
        "requests that needed retries / total retries": (
            f"{len(retried)} / {sum(o.attempts - 1 for o in outcomes)}"
        ),
        "max attempts for one request": max(outcome.attempts for outcome in outcomes),
        "idempotency keys (status, response)": dict(keys),
        "replays identical to the first 200": sum(
            replays[o.job.key] == (200, o.body) for o in outcomes
        ),
        "journal entries (journals), debit = credit": (
            f"{len(entries)} ({', '.join(sorted({f'{c} {y}' for c, y, _ in entries}))}),"
            f" {debit} = {credit}"
        ),
        "closing barriers passed during the load (postponed)": (
            f"{closer.passed} ({closer.postponed})"
        ),
        "day closings: documents, total / invoices' total": (
            f"{sum(d.document_count for d in days)}, {sum(d.total for d in days)}"
            f" / {invoiced['total__sum']}"
        ),
        "accounts audit (findings)": (
            f"{'clean' if accounts.clean else 'NOT CLEAN'} ({accounts.finding_counts})"
        ),
    }
    REPORTS["fault injection: 2 gunicorn servers, one database"] = counts
    for name, value in counts.items():
        record_property(name, value)
    log_tails = "\n".join(server.log_tail() for server in servers)

    # Every request ended in a 200, through retries with the same key.
    unanswered = [(o.job.rental_id, o.status, o.body[:300]) for o in outcomes if o.status != 200]
    assert not unanswered, f"{unanswered[:5]}\n{counts}\n{log_tails}"
    # The faults really happened, each kind several times.
    assert len(injected) >= MIN_EACH, counts
    assert kills >= MIN_EACH, counts
    assert terminations >= MIN_EACH, counts
    assert not any(injector.error for injector in injectors), [i.error for i in injectors]
    assert failures["http_500"] >= len(injected) - kills, counts  # each fault was a 500

    # Every series gapless from 1, no duplicate, date order and hash chain intact.
    assert reports, "no series at all"
    assert all(report.clean for report in reports), [r.as_dict() for r in reports]
    assert sum(report.count for report in reports) == RENTALS
    assert not CreditNote.objects.exists()
    # Rental ended <=> invoiced, each exactly once, by its own invoice.
    assert len(rentals) == RENTALS
    assert all(status == Rental.Status.ENDED for _, status, _, _ in rentals), counts
    assert all(invoice_id is not None for _, _, invoice_id, _ in rentals)
    assert len(invoices) == RENTALS
    assert len({invoice_id for _, _, invoice_id, _ in rentals}) == RENTALS
    by_invoice = {pk: (kind, subject) for pk, kind, subject, _ in invoices}
    assert all(
        by_invoice[invoice_id] == ("rental", rental_id) for rental_id, _, invoice_id, _ in rentals
    )
    ended_at = {job.rental_id: job.ended_at for job in jobs}
    assert all(
        ended.isoformat().replace("+00:00", "Z") == ended_at[pk] for pk, _, _, ended in rentals
    )

    # One answer per key: duplicates and retries got the same bytes as every later replay.
    numbers = dict(Rental.objects.values_list("pk", "invoice__number"))
    for outcome in outcomes:
        body = json.loads(outcome.body)
        assert body["id"] == outcome.job.rental_id
        assert body["invoice"]["number"] == numbers[outcome.job.rental_id]
        assert replays[outcome.job.key] == (200, outcome.body), outcome.job
    assert keys == {(IdempotencyKey.Status.COMPLETED, 200): RENTALS}, keys

    # The journal: one entry per invoice, numbered 1..n per journal and year, balanced.
    assert closer.error is None and closer.passed > 0, counts
    numbers: dict[tuple[str, int], list[int]] = {}
    for code, year, number in sorted(entries):
        numbers.setdefault((code, year), []).append(number)
    assert sum(len(seen) for seen in numbers.values()) == RENTALS
    assert all(seen == list(range(1, len(seen) + 1)) for seen in numbers.values()), numbers
    assert debit == credit == invoiced["total__sum"]
    # The closings of the load's day(s) total the invoices to the cent, and so do the grand
    # totals; the audit recomputes each closing from the documents and finds nothing.
    assert days, counts
    assert sum(day.invoice_count for day in days) == RENTALS
    assert sum(day.total for day in days) == invoiced["total__sum"]
    assert sum(day.net for day in days) == invoiced["net__sum"]
    assert sum(day.vat for day in days) == invoiced["vat__sum"]
    assert days[-1].perpetual_total == invoiced["total__sum"]
    assert accounts.clean, accounts.findings[:10]
