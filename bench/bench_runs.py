"""The monthly invoice run against raw SQL's batch ceiling: ``python -m bench.bench_runs``.

For each size N, a scratch database ``bench_runs`` is recreated on the server of
``DATABASE_URL`` (default: local PostgreSQL), migrated, and filled by ``INSERT ... SELECT
generate_series`` with N members, each subscribed to one Paris pass from 1 February 2026.
Then two child processes, one after the other, each report their time and peak RSS
(``ru_maxrss``):

- the run: ``fleet.pass_runs.bill_due_subscriptions`` (what ``manage.py bill_subscriptions``
  and the scheduled job call), billing each subscription's first period, in batches of
  ``--batch-size``: claim with SKIP LOCKED, period rows, one counter lock and one date per
  batch, hash chain, invoices and lines, subscriptions moved on; an audit of the series
  afterwards must find it clean;
- the ceiling: the same number of invoices in batches of the same size, each batch one
  transaction of two statements: reserve its numbers with one ``UPDATE ... RETURNING`` on
  the counter, insert its invoice rows with one ``INSERT ... SELECT generate_series`` (no
  lines, no hash chain, nothing computed in Python).

The run streams its due periods batch by batch, so its peak RSS must not grow with N.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import scratch as scratch_db

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = "bench_runs"
BATCH_SIZE = 1000
UNTIL = datetime(2026, 2, 2, tzinfo=UTC)
CEILING_SERIES = "CEIL-2026"

FILL = [
    """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT '!', false, 'bench-' || g, '', '', '', false, true, now()
FROM generate_series(1, %(rows)s) AS g
""",
    """
INSERT INTO fleet_member (user_id, plan, billing_name, billing_address, created_at)
SELECT id, 'standard', 'Member ' || username, '1 rue de Rivoli, 75001 Paris', now()
FROM auth_user WHERE username LIKE 'bench-%%'
""",
    """
INSERT INTO fleet_zone (code, name, time_zone, currency, vat_rate, invoice_prefix,
                        yearly_series, created_at)
VALUES ('paris', 'Paris', 'Europe/Paris', 'EUR', 0.2000, 'PAR', true, now())
""",
    """
INSERT INTO fleet_tariff (zone_id, plan, valid_from, unlock_fee, minimum_minutes, daily_cap,
                          park_per_minute, per_km, included_km, created_at)
SELECT id, 'pass', '2000-01-01T00:00:00Z', 0, 0, 45, NULL, 0, 0, now() FROM fleet_zone
""",
    """
INSERT INTO fleet_passproduct (zone_id, code, label, monthly_price, plan, on_sale, created_at)
SELECT id, 'monthly', 'Paris monthly pass', 19.90, 'pass', true, now() FROM fleet_zone
""",
    """
INSERT INTO fleet_subscription (member_id, product_id, start_date, started_at, ends_at,
    cancelled_at, next_period_index, next_period_starts_at, subscribed_by_id, request_key,
    created_at)
SELECT m.id, p.id, DATE '2026-02-01', TIMESTAMPTZ '2026-01-31T23:00:00Z', NULL, NULL, 0,
       TIMESTAMPTZ '2026-01-31T23:00:00Z', m.user_id, '', now()
FROM fleet_member m CROSS JOIN fleet_passproduct p
""",
]

CEILING_RESERVE = """
INSERT INTO sequences_sequence (name, last) VALUES (%(series)s, %(count)s)
    ON CONFLICT (name) DO UPDATE SET last = sequences_sequence.last + %(count)s
    RETURNING last
"""
CEILING_INSERT = """
INSERT INTO billing_invoice (
    number, series, sequence, issued_at, time_zone, member_id, billing_name, billing_address,
    seller_name, seller_address, seller_vat_id, subject_kind, subject_id, period_started_at,
    period_ended_at, minutes, currency, net, vat_rate, vat, total, canonical_version,
    previous_hash, hash)
SELECT %(series)s || '-' || lpad(g::text, 6, '0'), %(series)s, g, clock_timestamp(),
    'Europe/Paris', %(member)s, 'Member bench', '1 rue de Rivoli, 75001 Paris',
    'Autopartage Demo SAS', '1 rue de Rivoli, 75001 Paris', 'FR00123456789',
    'ceiling-' || %(series)s, g, TIMESTAMPTZ '2026-01-31T23:00:00Z',
    TIMESTAMPTZ '2026-02-28T23:00:00Z', NULL, 'EUR', 16.58, 0.2000, 3.32, 19.90, 2,
    repeat('0', 64), md5(%(series)s || g::text) || md5('ceiling' || g::text)
FROM generate_series(%(last)s - %(count)s + 1, %(last)s) AS g
"""


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(scratch: str, rows: int) -> float:
    """Insert ``rows`` members subscribed to the Paris pass; return the seconds it took."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(scratch) as conn:
        for statement in FILL:
            conn.execute(statement, {"rows": rows})
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def measure_in_child(scratch: str, what: str, rows: int, batch_size: int) -> dict[str, Any]:
    """Run ``run`` or ``ceiling`` in a fresh interpreter; return its figures."""
    result = subprocess.run(
        [
            sys.executable, "-m", "bench.bench_runs", "--child", what,
            "--rows", str(rows), "--batch-size", str(batch_size),
        ],
        cwd=ROOT,
        env=scratch_db.child_env(scratch),
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def child_run(batch_size: int) -> dict[str, Any]:
    """Bill every due period through the use case; time it, audit the series."""
    import django

    django.setup()
    from django.utils import timezone

    from billing import audit
    from fleet import pass_runs

    baseline = peak_rss_mib()
    started = time.perf_counter()
    summary = pass_runs.bill_due_subscriptions(
        until=UNTIL, now=timezone.now(), batch_size=batch_size
    )
    seconds = time.perf_counter() - started
    (report,) = audit.audit_sequences(series="PAR-2026")
    return {
        "billed": summary.billed,
        "failed": len(summary.failures),
        "batches": summary.batches,
        "seconds": seconds,
        "peak_rss_mib": peak_rss_mib(),
        "baseline_rss_mib": baseline,
        "audit_clean": report.clean,
        "audit_count": report.count,
    }


def child_ceiling(rows: int, batch_size: int) -> dict[str, Any]:
    """Insert ``rows`` invoices in raw-SQL batches: reserve numbers, insert rows, commit."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        (member,) = conn.execute("SELECT min(id) FROM auth_user").fetchone()
        conn.commit()
        started = time.perf_counter()
        done = 0
        while done < rows:
            count = min(batch_size, rows - done)
            with conn.transaction():
                (last,) = conn.execute(
                    CEILING_RESERVE, {"series": CEILING_SERIES, "count": count}
                ).fetchone()
                conn.execute(
                    CEILING_INSERT,
                    {"series": CEILING_SERIES, "member": member, "last": last, "count": count},
                )
            done += count
        seconds = time.perf_counter() - started
    return {"rows": done, "seconds": seconds, "peak_rss_mib": peak_rss_mib()}


def run(rows: int, *, batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """Bill ``rows`` due subscriptions and the raw-SQL ceiling beside it; return the figures.

    Keys: rows, seconds, per_second, peak_rss_mib, batches, audit_clean, ceiling_seconds,
    ceiling_per_second, ratio (use case per second / ceiling per second).

    Raises:
        RuntimeError: the run did not bill every period, or its series is not clean.
    """
    url = scratch_db.server_url()
    scratch = scratch_db.recreate(url, SCRATCH)
    try:
        fill(scratch, rows)
        used = measure_in_child(scratch, "run", rows, batch_size)
        ceiling = measure_in_child(scratch, "ceiling", rows, batch_size)
    finally:
        scratch_db.drop(url, SCRATCH)
    if used["billed"] != rows or used["failed"] or not used["audit_clean"]:
        raise RuntimeError(f"the run of {rows} went wrong: {used}")
    per_second = rows / used["seconds"]
    ceiling_per_second = rows / ceiling["seconds"]
    return {
        "rows": rows,
        "batch_size": batch_size,
        "seconds": round(used["seconds"], 2),
        "per_second": round(per_second),
        "peak_rss_mib": round(used["peak_rss_mib"], 1),
        "baseline_rss_mib": round(used["baseline_rss_mib"], 1),
        "batches": used["batches"],
        "audit_clean": used["audit_clean"],
        "ceiling_seconds": round(ceiling["seconds"], 2),
        "ceiling_per_second": round(ceiling_per_second),
        "ratio": round(per_second / ceiling_per_second, 2),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the bench for each ``--rows`` size and print a Markdown table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--child", choices=["run", "ceiling"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = (
            child_run(args.batch_size)
            if args.child == "run"
            else child_ceiling(args.rows[0], args.batch_size)
        )
        print(json.dumps(figures))
        return
    results = [run(rows, batch_size=args.batch_size) for rows in args.rows]
    print("| due | run s | invoices/s | peak RSS MiB | ceiling invoices/s | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['seconds']:.2f} | {r['per_second']:,} "
            f"| {r['peak_rss_mib']:.1f} | {r['ceiling_per_second']:,} | {r['ratio']:.2f} |"
        )


if __name__ == "__main__":
    main()
