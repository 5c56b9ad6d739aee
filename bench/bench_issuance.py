"""Invoices per second into one series: the real use case against raw SQL's ceiling.

The use case is ``rentals.lifecycle.end_rental`` on pre-started rentals (lock the rental,
price it, take the number, insert the invoice and its lines, close the rental, commit), run by
N processes with a connection each, for a fixed time. The ceiling is ``pgbench`` running the
bare logical transaction on as many connections for as long: BEGIN; take the number with the
same upsert as django-sequences; INSERT the invoice row; COMMIT. Both serialise on one
counter row: that lock, held until COMMIT, is what bounds a series.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bench.scratch import OpenRental

CEILING_SERIES = "PGB-CEILING"
# The bare transaction's statements, as pgbench and psycopg both run them: {last} and
# {customer} are each client's placeholders, {series} and {kind} literals.
COUNTER_UPSERT = """INSERT INTO sequences_sequence (name, last) VALUES ('{series}', 1)
    ON CONFLICT (name) DO UPDATE SET last = sequences_sequence.last + 1
    RETURNING last"""
INVOICE_INSERT = """INSERT INTO billing_invoice (
    number, series, sequence, issued_at, time_zone, member_id, billing_name,
    billing_address, seller_name, seller_address, seller_vat_id, subject_kind, subject_id,
    period_started_at, period_ended_at, currency, net, vat_rate, vat, total,
    canonical_version, previous_hash, hash)
VALUES (
    '{series}-' || lpad({last}::text, 6, '0'), '{series}', {last}, clock_timestamp(),
    'Europe/Paris', {customer}, 'Bench Member', '1 rue de Rivoli, 75001 Paris',
    'Autopartage Demo SAS', '1 rue de Rivoli, 75001 Paris', 'FR11123456782', '{kind}', {last},
    now() - interval '1 hour', now(), 'EUR', 17.50, 0.2000, 3.50, 21.00,
    2, repeat('0', 64), md5({last}::text) || md5('{kind}' || {last}::text))"""
PGBENCH_SCRIPT = (
    f"BEGIN;\n{COUNTER_UPSERT} \\gset\n"
    + INVOICE_INSERT.format(series="{series}", kind="pgbench", last=":last", customer=":customer")
    + ";\nCOMMIT;\n"
)
# Ends timed for the time the counter row is held, after as many unmeasured ones (the
# first calls of a process fill its caches).
LOCK_SAMPLES = 2000
LOCK_WARM_UP = 50
HOLD_SERIES = f"{CEILING_SERIES}-HOLD"  # the audit leaves PGB-CEILING* out


@dataclass(frozen=True, slots=True)
class Throughput:
    connections: int
    transactions: int
    seconds: float
    exhausted: bool = False

    @property
    def per_second(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Hold:
    """How long a transaction held the counter row: from the number taken to COMMIT returned."""

    samples: int
    median_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Hold:
        """Summarise durations measured in seconds."""
        return cls(
            samples=len(seconds),
            median_ms=statistics.median(seconds) * 1000,
            p99_ms=statistics.quantiles(seconds, n=100)[98] * 1000,
        )


def _end_rentals(
    batch: Sequence[tuple[int, int]], barrier: Any, seconds: float, results: Any
) -> None:
    """In a forked worker: end rentals until the time is up; report count and timing."""
    from django.db import connections
    from django.utils import timezone

    from fleet.models import Member
    from rentals import lifecycle

    connections.close_all()  # never share the parent's socket
    Member.objects.exists()  # connect before the clock starts
    barrier.wait(timeout=120)
    started = time.monotonic()
    deadline = started + seconds
    done = 0
    for rental_id, member_id in batch:
        if time.monotonic() >= deadline:
            break
        lifecycle.end_rental(
            member=Member(pk=member_id), rental_id=rental_id, ended_at=None, now=timezone.now()
        )
        done += 1
    finished = time.monotonic()
    exhausted = done == len(batch) and finished < deadline
    results.put((done, started, finished, exhausted))
    connections.close_all()


def use_case(rentals: Sequence[OpenRental], *, workers: int, seconds: float) -> Throughput:
    """Run ``workers`` processes ending ``rentals`` (split between them) for ``seconds``."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    results = context.Queue()
    pairs = [(rental.rental_id, rental.member_id) for rental in rentals]
    processes = [
        context.Process(
            target=_end_rentals, args=(pairs[index::workers], barrier, seconds, results)
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=seconds + 180) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a use-case worker exited with {process.exitcode}")
    done = sum(report[0] for report in reports)
    window = max(report[2] for report in reports) - min(report[1] for report in reports)
    return Throughput(workers, done, window, exhausted=any(report[3] for report in reports))


def pgbench(database_url: str, *, connections: int, seconds: int, customer_id: int) -> Throughput:
    """Run the bare numbering transaction with ``pgbench`` on ``connections`` connections.

    Raises:
        RuntimeError: pgbench failed or printed no transaction count.
    """
    parts = urlsplit(database_url)
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "issue.sql"
        script.write_text(PGBENCH_SCRIPT.format(series=CEILING_SERIES))
        command = [
            "pgbench",
            "--no-vacuum",
            "--protocol=simple",  # as Django's psycopg client-side binding
            f"--client={connections}",
            f"--jobs={min(connections, len(os.sched_getaffinity(0)))}",
            f"--time={seconds}",
            f"--define=customer={customer_id}",
            f"--file={script}",
            f"--host={parts.hostname or '127.0.0.1'}",
            f"--port={parts.port or 5432}",
            f"--username={unquote(parts.username or 'postgres')}",
            parts.path.lstrip("/"),
        ]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    processed = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    if result.returncode != 0 or processed is None:
        raise RuntimeError(f"pgbench failed ({result.returncode}):\n{result.stderr[-2000:]}")
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if failed and int(failed.group(1)):
        raise RuntimeError(f"pgbench: {failed.group(1)} failed transactions")
    transactions = int(processed.group(1))
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    measured = transactions / float(tps.group(1)) if tps else float(seconds)
    return Throughput(connections, transactions, measured)


def lock_hold(
    rentals: Sequence[OpenRental], database_url: str, *, customer_id: int
) -> tuple[Hold, Hold]:
    """Time the counter row held by ``end_rental``, then by the bare transaction, one by one.

    One process, no contention: each figure is the work done under the lock itself, which
    every other invoice of the series waits for. The first ``LOCK_WARM_UP`` of ``rentals``
    are ended unmeasured.
    """
    return _use_case_hold(rentals), _bare_hold(
        database_url, customer_id=customer_id, samples=len(rentals) - LOCK_WARM_UP
    )


def _use_case_hold(rentals: Sequence[OpenRental]) -> Hold:
    """End ``rentals`` in turn, timing each from its first number taken to its commit.

    Raises:
        RuntimeError: an end took no number through ``billing.numbering`` (the use case
            numbers some other way now: this bench must follow it).
    """
    from unittest import mock

    from django.db import transaction
    from django.utils import timezone

    from billing import numbering
    from fleet.models import Member
    from rentals import lifecycle

    held: list[float] = []
    taken: list[float] = []  # when this transaction took its first number, if it did

    def timed(take: Callable[..., Any]) -> Callable[..., Any]:
        def take_and_time(*args: Any, **kwargs: Any) -> Any:
            numbers = take(*args, **kwargs)
            if not taken:  # the series' number comes first; later counters are under it
                taken.append(time.perf_counter())
                # Django runs this right after COMMIT returns; nothing else in this path
                # registers on_commit work on PostgreSQL (jobs are rows in the transaction).
                transaction.on_commit(lambda: held.append(time.perf_counter() - taken[0]))
            return numbers

        return take_and_time

    with (
        mock.patch.object(numbering, "take_number", timed(numbering.take_number)),
        mock.patch.object(numbering, "take_numbers", timed(numbering.take_numbers)),
    ):
        for rental in rentals:
            taken.clear()
            lifecycle.end_rental(
                member=Member(pk=rental.member_id),
                rental_id=rental.rental_id,
                ended_at=None,
                now=timezone.now(),
            )
    if len(held) != len(rentals):
        raise RuntimeError(
            f"{len(rentals) - len(held)} of {len(rentals)} ends took no number through"
            " billing.numbering"
        )
    return Hold.of(held[LOCK_WARM_UP:])


def _bare_hold(database_url: str, *, customer_id: int, samples: int) -> Hold:
    """Run the bare transaction ``samples`` times on one connection, as pgbench runs it."""
    import psycopg

    upsert = COUNTER_UPSERT.format(series=HOLD_SERIES)
    insert = INVOICE_INSERT.format(
        series=HOLD_SERIES, kind="lock-hold", last="%(last)s", customer="%(customer)s"
    )
    held: list[float] = []
    # Client-side binding, as Django's psycopg backend (and pgbench's simple protocol).
    with psycopg.connect(
        database_url, autocommit=True, cursor_factory=psycopg.ClientCursor
    ) as connection:
        for _ in range(LOCK_WARM_UP + samples):
            connection.execute("BEGIN")
            row = connection.execute(upsert).fetchone()
            taken = time.perf_counter()
            assert row is not None
            connection.execute(insert, {"last": row[0], "customer": customer_id})
            connection.execute("COMMIT")
            held.append(time.perf_counter() - taken)
    return Hold.of(held[LOCK_WARM_UP:])
