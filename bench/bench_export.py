"""Time the finance export against PostgreSQL's own COPY: ``python -m bench.bench_export``.

For each size, a scratch database ``bench_export`` is recreated on the server of
``DATABASE_URL`` (default: local PostgreSQL), migrated, and filled with N invoices by one
``INSERT ... SELECT generate_series`` (valid rows for the export, not issued through the use
case: no lines, no real hash chain). Then two child processes each read the same rows:
one through ``billing.exports.export_bytes`` (the API's and the command's: on PostgreSQL a
COPY that formats every value, then a thin pass), one with a bare ``COPY (SELECT ...) TO
STDOUT`` of the same columns unformatted, and
each reports its peak RSS (``ru_maxrss``), so that the figure is per run and per reader.
The export streams, so its peak RSS must not grow with N. ``ratio`` = export time / COPY time.
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
SCRATCH = "bench_export"
# The period covers every generated invoice: the export's real query, filters included.
PERIOD_FROM = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD_TO = datetime(2027, 1, 1, tzinfo=UTC)

INSERT = """
INSERT INTO billing_invoice (
    number, series, sequence, issued_at, time_zone, member_id, billing_name,
    billing_address, seller_name, seller_address, seller_vat_id, subject_kind, subject_id,
    period_started_at, period_ended_at, currency, net, vat_rate, vat, total,
    canonical_version, previous_hash, hash)
SELECT
    'BEN-2026-' || lpad(g::text, greatest(6, length(g::text)), '0'), 'BEN-2026', g,
    ts, 'Europe/Paris', %(customer)s, 'Member ' || g, '1 rue de Rivoli, Paris',
    'Autopartage Démo SAS', '1 rue de Rivoli, 75001 Paris', 'FR11123456782', 'rental', g,
    ts - interval '20 minutes', ts, 'EUR', 6.6700, 0.2000, 1.3300, 8.0000,
    2, repeat('0', 64), md5(g::text) || md5('bench' || g::text)
FROM generate_series(1, %(rows)s) AS g,
     LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second') AS t(ts)
"""
COPY = """
COPY (
    SELECT 'invoice', number, series, sequence, issued_at, time_zone, member_id,
           billing_name, number, currency, net, vat_rate, vat, total, hash, subject_kind
    FROM billing_invoice
    WHERE issued_at >= %(start)s AND issued_at < %(end)s
    ORDER BY series, sequence, id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(scratch: str, rows: int) -> float:
    """Insert ``rows`` invoices for one customer; return the seconds it took."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(scratch) as conn:
        (customer,) = conn.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined)"
            " VALUES ('!', false, 'bench', '', '', '', false, true, now()) RETURNING id"
        ).fetchone()
        conn.execute(INSERT, {"customer": customer, "rows": rows})
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE billing_invoice")
    return time.perf_counter() - started


def measure_in_child(scratch: str, reader: str) -> dict[str, Any]:
    """Run one reader (``export`` or ``copy``) in a fresh interpreter; return its figures."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_export", "--child", reader],
        cwd=ROOT,
        env=scratch_db.child_env(scratch),
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def child_export() -> dict[str, Any]:
    """Export every row through billing.exports into /dev/null; time it, count it."""
    import django

    django.setup()
    from billing import exports

    baseline = peak_rss_mib()
    started = time.perf_counter()
    lines = 0
    counter = [0]
    with open(os.devnull, "wb") as sink:
        for chunk in exports.export_bytes(
            issued_from=PERIOD_FROM, issued_to=PERIOD_TO, counter=counter
        ):
            sink.write(chunk)
    lines = counter[0] + 1
    seconds = time.perf_counter() - started
    return {
        "rows": lines - 1,
        "seconds": seconds,
        "peak_rss_mib": peak_rss_mib(),
        "baseline_rss_mib": baseline,
    }


def child_copy() -> dict[str, Any]:
    """Read the same rows with COPY ... TO STDOUT into /dev/null; time it, count it."""
    import psycopg

    started = time.perf_counter()
    lines = 0
    with (
        psycopg.connect(os.environ["DATABASE_URL"]) as conn,
        open(os.devnull, "wb") as sink,
        conn.cursor() as cursor,
        cursor.copy(COPY, {"start": PERIOD_FROM, "end": PERIOD_TO}) as copy,
    ):
        for block in copy:
            sink.write(block)
            lines += bytes(block).count(b"\n")
    seconds = time.perf_counter() - started
    # Line breaks inside quoted fields would be counted too; the generated names have none.
    return {"rows": lines - 1, "seconds": seconds, "peak_rss_mib": peak_rss_mib()}


def run(rows: int) -> dict[str, Any]:
    """Export ``rows`` invoices through billing.exports and through COPY; return the figures.

    Keys: rows, seconds, rows_per_second, peak_rss_mib (of the export's process),
    copy_seconds, copy_rows_per_second, ratio (export seconds / COPY seconds).

    Raises:
        RuntimeError: a reader did not see the ``rows`` invoices inserted.
    """
    url = scratch_db.server_url()
    scratch = scratch_db.recreate(url, SCRATCH)
    try:
        fill(scratch, rows)
        export = measure_in_child(scratch, "export")
        copy = measure_in_child(scratch, "copy")
    finally:
        scratch_db.drop(url, SCRATCH)
    if export["rows"] != rows or copy["rows"] != rows:
        raise RuntimeError(
            f"expected {rows} rows; the export saw {export['rows']}, COPY {copy['rows']}"
        )
    return {
        "rows": rows,
        "seconds": round(export["seconds"], 3),
        "rows_per_second": round(rows / export["seconds"]),
        "peak_rss_mib": round(export["peak_rss_mib"], 1),
        "copy_seconds": round(copy["seconds"], 3),
        "copy_rows_per_second": round(rows / copy["seconds"]),
        "ratio": round(export["seconds"] / copy["seconds"], 2),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the bench for each ``--rows`` size and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", choices=["export", "copy"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = child_export() if args.child == "export" else child_copy()
        print(json.dumps(figures))
        return
    results = [run(rows) for rows in args.rows]
    print(
        "| rows | export s | export rows/s | export peak RSS MiB | COPY s | COPY rows/s | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['seconds']:.2f} | {r['rows_per_second']:,} "
            f"| {r['peak_rss_mib']:.1f} | {r['copy_seconds']:.2f} "
            f"| {r['copy_rows_per_second']:,} | {r['ratio']:.1f}x |"
        )
    if len(results) > 1:
        rss = ", ".join(f"{r['rows']:,} rows: {r['peak_rss_mib']:.1f} MiB" for r in results)
        print(f"\nExport peak RSS by size ({rss}): constant memory means these stay flat.")


if __name__ == "__main__":
    main()
