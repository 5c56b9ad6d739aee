"""Benchmarks beside their ceilings, in one run: ``make bench`` (``python -m bench``).

Each measurement runs next to the fastest thing that could do the same job on this machine,
in the same run, and the table gives their ratio:

- invoice issuance into one series through ``end_rental`` with 1, 4 and 8 processes, against
  ``pgbench`` running the bare transaction (counter upsert + invoice insert) on as many
  connections (bench/bench_issuance.py);
- the time the series' counter row is held, from the number taken to the commit, by
  ``end_rental`` and by the bare transaction, one at a time (bench/bench_issuance.py);
- ending rentals over HTTP under gunicorn in several shapes (sync workers, gthread), driven
  by ``wrk`` on loopback, against two endpoints of the same server: a gapless write (a
  number and one invoice row, bench/gapless.py) and a trivial authenticated read
  (bench/bench_http.py);
- the finance export against PostgreSQL's COPY (bench/bench_export.py), if present;
- ``price()`` against the minute-by-minute walk (bench/bench_pricing.py), if present;
- the monthly invoice run of passes (``bill_due_subscriptions``) against raw SQL batches
  (reserve N numbers with one ``UPDATE ... RETURNING``, insert N invoices in one statement),
  at 10,000 and 100,000 due subscriptions (bench/bench_runs.py).

Uses a scratch database (``bench_billing``) on the server of ``DATABASE_URL``, dropped at
the end. Prints one Markdown table and writes it, with the machine, to
bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import bench_http, scratch

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
# Rentals made ready per second of measurement; a run that uses them all up is redone
# with twice as many, so these only need to be about right.
ISSUES_PER_SECOND = 600
HTTP_ENDS_PER_SECOND = 300
HEADER = "| Measurement | Load | Use case | Ceiling | Ratio |"
RULE = "|---|---|---:|---:|---:|"

Row = tuple[str, str, str, str, str]


def _number(value: float) -> str:
    return f"{value:,.0f}"


def _optional(module: str) -> Any | None:
    """Import a bench module written elsewhere; None while it does not exist."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


def issuance_rows(
    fleet: scratch.Fleet, database_url: str, *, workers: list[int], seconds: int
) -> list[Row]:
    """Measure end_rental with each worker count, each beside pgbench on as many connections."""
    from bench import bench_issuance

    rows: list[Row] = []
    ((customer, _),) = fleet.members(1, tag="pgbench")
    for count in workers:
        capacity = ISSUES_PER_SECOND
        while True:
            rentals = fleet.open_rentals(
                capacity * seconds, tag=f"issue-{count}-{capacity}", started_ago=timedelta(hours=1)
            )
            used = bench_issuance.use_case(rentals, workers=count, seconds=seconds)
            if not used.exhausted:
                break
            capacity *= 2
        ceiling = bench_issuance.pgbench(
            database_url, connections=count, seconds=seconds, customer_id=customer.user_id
        )
        rows.append(
            (
                "Invoice issuance, one series: `end_rental` (lock rental, price, number,"
                " invoice + lines, close)",
                f"{count} process{'es' if count > 1 else ''}, {count}"
                f" connection{'s' if count > 1 else ''}, {seconds} s",
                f"{_number(used.per_second)} invoices/s",
                f"{_number(ceiling.per_second)} tx/s (pgbench: upsert counter + insert invoice)",
                f"{used.per_second / ceiling.per_second:.2f}",
            )
        )
        print(f"issuance x{count}: {rows[-1][2]} vs {rows[-1][3]}", flush=True)
    return rows


def hold_rows(fleet: scratch.Fleet, database_url: str) -> list[Row]:
    """Time the counter row held by end_rental beside the bare transaction, one at a time."""
    from bench import bench_issuance

    ((customer, _),) = fleet.members(1, tag="lock-hold-bare")
    rentals = fleet.open_rentals(
        bench_issuance.LOCK_SAMPLES + bench_issuance.LOCK_WARM_UP,
        tag="lock-hold",
        started_ago=timedelta(hours=1),
    )
    used, bare = bench_issuance.lock_hold(rentals, database_url, customer_id=customer.user_id)
    row = (
        "Time the counter row is held: `end_rental`, from the number taken to COMMIT returned",
        f"1 process, 1 connection, {used.samples:,} invoices one after another",
        f"median {used.median_ms:.2f} ms, p99 {used.p99_ms:.2f} ms",
        f"median {bare.median_ms:.2f} ms, p99 {bare.p99_ms:.2f} ms (bare transaction: from"
        " the counter upsert returning, insert invoice, COMMIT)",
        f"{used.median_ms / bare.median_ms:.1f}",
    )
    print(f"lock hold: {row[2]} vs {row[3]}", flush=True)
    return [row]


def http_rows(
    fleet: scratch.Fleet,
    database_url: str,
    *,
    shapes: list[bench_http.Shape],
    connections: int,
    seconds: int,
) -> list[Row]:
    """Measure POST /api/rentals/{id}/end/ in each server shape, beside both ceilings."""
    ((_, reader_token),) = fleet.members(1, tag="http-reader")
    ((_, writer_token),) = fleet.members(1, tag="http-writer")
    rows: list[Row] = []
    for shape in shapes:
        capacity = HTTP_ENDS_PER_SECOND
        while True:
            rentals = fleet.open_rentals(
                capacity * seconds,
                tag=f"http-{shape.workers}x{shape.threads}-{capacity}",
                started_ago=timedelta(hours=1),
            )
            loads = bench_http.run(
                database_url,
                shape=shape,
                rentals=rentals,
                reader_token=reader_token,
                writer_token=writer_token,
                connections=connections,
                seconds=seconds,
            )
            if not loads.ending.exhausted:
                break
            capacity *= 2
        for name, load in (
            ("ending", loads.ending),
            ("gapless", loads.gapless),
            ("read", loads.read),
        ):
            if load.unexpected or load.socket_errors:
                raise RuntimeError(
                    f"HTTP {name} ({shape}): {load.unexpected} unexpected statuses,"
                    f" {load.socket_errors} socket errors"
                )
        ending = loads.ending
        for ceiling, what in (
            (loads.gapless, "`POST /bench/gapless-write/`: number + one invoice row"),
            (loads.read, "`GET /api/rentals/?page_size=1`, no rentals"),
        ):
            rows.append(
                (
                    f"End a rental over HTTP: `POST /api/rentals/{{id}}/end/` (gunicorn, {shape})",
                    f"wrk on 127.0.0.1, {bench_http.THREADS} threads, {connections}"
                    f" connections, {seconds} s",
                    _latency(ending),
                    f"{_latency(ceiling)} ({what})",
                    f"{ending.per_second / ceiling.per_second:.2f}",
                )
            )
            print(f"http {shape}: {rows[-1][2]} vs {rows[-1][3]}", flush=True)
    return rows


def _latency(load: bench_http.Load) -> str:
    return f"{_number(load.per_second)} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms"


def export_rows(sizes: list[int]) -> tuple[list[Row], str | None]:
    """Rows of bench/bench_export.py for each size, or a note while it does not exist."""
    module = _optional("bench.bench_export")
    if module is None:
        return [], "bench/bench_export.py does not exist yet: the export rows are missing."
    rows: list[Row] = []
    for size in sizes:
        result = module.run(size)
        rows.append(
            (
                f"Finance export, {result['rows']:,} invoices (CSV, streamed)",
                "1 process, 1 connection",
                f"{_number(result['rows_per_second'])} rows/s, peak RSS"
                f" {result['peak_rss_mib']:.0f} MiB",
                f"{_number(result['copy_rows_per_second'])} rows/s (`COPY ... TO STDOUT`)",
                f"{result['rows_per_second'] / result['copy_rows_per_second']:.2f}",
            )
        )
        print(f"export {size}: {rows[-1][2]} vs {rows[-1][3]}", flush=True)
    return rows, None


def run_rows(sizes: list[int]) -> list[Row]:
    """Rows of bench/bench_runs.py: the invoice run of passes beside its raw-SQL ceiling."""
    from bench import bench_runs

    rows: list[Row] = []
    for size in sizes:
        result = bench_runs.run(size)
        rows.append(
            (
                f"Monthly invoice run, {result['rows']:,} due subscriptions:"
                " `bill_due_subscriptions` (SKIP LOCKED batch, periods, numbers, invoices +"
                " lines, subscriptions moved on)",
                f"1 process, 1 connection, batches of {result['batch_size']:,}",
                f"{_number(result['per_second'])} invoices/s, peak RSS"
                f" {result['peak_rss_mib']:.0f} MiB",
                f"{_number(result['ceiling_per_second'])} invoices/s (raw SQL per batch:"
                " `UPDATE ... RETURNING` numbers + one `INSERT ... SELECT`)",
                f"{result['ratio']:.2f}",
            )
        )
        print(f"runs {size}: {rows[-1][2]} vs {rows[-1][3]}", flush=True)
    return rows


def pricing_rows() -> tuple[list[Row], str | None]:
    """Rows of bench/bench_pricing.py, or a note while it does not exist."""
    module = _optional("bench.bench_pricing")
    if module is None:
        return [], "bench/bench_pricing.py does not exist yet: the pricing rows are missing."
    rows: list[Row] = []
    for result in module.run():
        rows.append(
            (
                f"Pricing, {result['case']}: `price()`",
                f"1 call, {result['minutes']:,} minutes",
                f"{result['price_us']:,.1f} µs/call",
                f"{result['brute_force_us']:,.0f} µs/call (minute-by-minute walk)",
                f"{result['speedup']:,.0f}x faster",
            )
        )
    return rows, None


def audit_note() -> str:
    """Audit the use case's series (not the ceilings', whose rows have no real hash)."""
    from bench import gapless
    from bench.bench_issuance import CEILING_SERIES
    from billing import audit

    ceilings = (CEILING_SERIES, gapless.SERIES)
    reports = [r for r in audit.audit_sequences() if not r.series.startswith(ceilings)]
    parts = [
        f"{r.series} {r.first}..{r.last} ({r.count} invoices,"
        f" {'clean' if r.clean else 'NOT CLEAN'})"
        for r in reports
    ]
    return "Audit of the use case's series after the run: " + "; ".join(parts) + "."


def render(machine: dict[str, str], started: datetime, rows: list[Row], notes: list[str]) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `make bench` on {machine['nproc']} cores"
        f" (nproc) of {machine['cpu']}, {machine['memory']} of memory, PostgreSQL"
        f" {machine['postgresql']}, Python {machine['python']}; the application and"
        " PostgreSQL share the machine. Each measurement ran beside its ceiling in the"
        " same run.",
        "",
        HEADER,
        RULE,
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        "Ratio: use case ÷ ceiling (throughput); for the counter row, use case ÷ bare"
        " transaction (median time held: lower is better); for pricing, the speed-up over"
        " the walk.",
        "",
        *(f"- {note}" for note in notes),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument(
        "--http-servers",
        type=bench_http.Shape.parse,
        nargs="+",
        default=[bench_http.Shape.parse(shape) for shape in ("3", "5", "2x4")],
        help="gunicorn shapes: N sync workers, or WxT (W gthread workers of T threads)",
    )
    parser.add_argument("--http-connections", type=int, default=8)
    parser.add_argument("--export-rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--run-rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["issuance", "hold", "http", "export", "pricing", "runs"],
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    clock = time.monotonic()
    load_before = os.getloadavg()[0]
    server = scratch.server_url()
    print(f"scratch database {scratch.SCRATCH} on {server.rsplit('@', 1)[-1]}", flush=True)
    database_url = scratch.recreate(server)
    os.environ.update(scratch.child_env(database_url))
    import django

    django.setup()
    rows: list[Row] = []
    notes: list[str] = []
    try:
        machine = scratch.machine()
        fleet = scratch.Fleet()
        steps: list[tuple[str, Callable[[], None]]] = [
            (
                "issuance",
                lambda: rows.extend(
                    issuance_rows(fleet, database_url, workers=args.workers, seconds=args.seconds)
                ),
            ),
            ("hold", lambda: rows.extend(hold_rows(fleet, database_url))),
            (
                "http",
                lambda: rows.extend(
                    http_rows(
                        fleet,
                        database_url,
                        shapes=args.http_servers,
                        connections=args.http_connections,
                        seconds=args.seconds,
                    )
                ),
            ),
        ]
        for name, step in steps:
            if name not in args.skip:
                step()
        if {"issuance", "hold", "http"} - set(args.skip):
            notes.append(audit_note())
        from django.db import connections

        connections.close_all()
        if "export" not in args.skip:
            found, note = export_rows(args.export_rows)
            rows.extend(found)
            notes.extend([note] if note else [])
        if "pricing" not in args.skip:
            found, note = pricing_rows()
            rows.extend(found)
            notes.extend([note] if note else [])
        if "runs" not in args.skip:
            rows.extend(run_rows(args.run_rows))
    finally:
        from django.db import connections

        connections.close_all()
        scratch.drop(server)
    notes.append(
        f"Whole run: {time.monotonic() - clock:.0f} s; 1-minute load average"
        f" {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (anything else running"
        " on the machine lowers the use case and its ceiling alike). Rerun: `make bench`."
    )
    text = render(machine, started, rows, notes)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"bench: {exc}")
