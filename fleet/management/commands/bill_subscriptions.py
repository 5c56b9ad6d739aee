"""Invoice every monthly-pass period due before ``--until``, each exactly once."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone

from billing import runs
from billing.management.commands.export_invoices import instant
from core.localtime import utc_iso
from fleet import pass_runs

PROGRESS_EVERY_SECONDS = 0.2
BAR_WIDTH = 30
LISTED_FAILURES = 50


class ProgressBar:
    """Periods billed out of those due, with a bar and the rate, redrawn in place."""

    def __init__(self, stream: OutputWrapper | None) -> None:
        self.stream = stream
        self.started = self.drawn = time.monotonic()

    def update(self, summary: runs.RunSummary, *, final: bool = False) -> None:
        """Redraw the line, at most every ``PROGRESS_EVERY_SECONDS`` unless ``final``."""
        if self.stream is None:
            return
        now = time.monotonic()
        if not final and now - self.drawn < PROGRESS_EVERY_SECONDS:
            return
        self.drawn = now
        done = summary.billed + len(summary.failures)
        # More periods than subscriptions may be due (a subscription behind by two months).
        total = max(summary.due, done, 1)
        filled = round(BAR_WIDTH * done / total)
        rate = summary.billed / max(now - self.started, 1e-9)
        line = (
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:,}/{total:,} periods,"
            f" {len(summary.failures):,} failed, {rate:,.0f}/s"
        )
        self.stream.write(line + ("\n" if final else ""), style_func=str, ending="")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Invoice every monthly-pass period that starts before --until, each exactly once: "
        "safe to kill and to run again, and on several hosts at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--until",
            required=True,
            type=instant,
            help="bill the periods starting before this instant (not after now), e.g."
            " 2026-12-01T00:00:00+01:00",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=runs.BATCH_SIZE,
            help=f"invoices per transaction (default {runs.BATCH_SIZE})",
        )
        parser.add_argument(
            "--max-failures",
            type=int,
            default=runs.MAX_FAILURES,
            help=f"stop after this many failed periods (default {runs.MAX_FAILURES})",
        )

    def handle(
        self, *args: Any, until: datetime, batch_size: int, max_failures: int, **options: Any
    ) -> None:
        if batch_size < 1 or max_failures < 0:
            raise CommandError("--batch-size must be at least 1 and --max-failures at least 0.")
        progress = ProgressBar(self.stderr if self.stderr.isatty() else None)
        try:
            summary = pass_runs.bill_due_subscriptions(
                until=until,
                now=timezone.now(),
                batch_size=batch_size,
                max_failures=max_failures,
                on_progress=progress.update,
            )
        except pass_runs.InvalidRun as exc:
            raise CommandError(exc.message) from exc
        progress.update(summary, final=True)
        self.stdout.write(
            f"Billed {summary.billed} period(s) due before {utc_iso(until)} in"
            f" {summary.batches} batch(es); skipped {summary.skipped} already billed;"
            f" failed {len(summary.failures)}."
        )
        for failure in summary.failures[:LISTED_FAILURES]:
            self.stdout.write(f"  subscription {failure.item}: {failure.reason}")
        if len(summary.failures) > LISTED_FAILURES:
            self.stdout.write(f"  ... and {len(summary.failures) - LISTED_FAILURES} more")
        if not summary.ok:
            raise CommandError(
                summary.aborted or f"{len(summary.failures)} period(s) not billed (see above)."
            )
