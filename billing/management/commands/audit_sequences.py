"""Print the sequence audit of ``GET /api/audit/sequences/`` and the accounts audit beside it.

Exit codes: 0 every series and the accounts clean, 1 a series is not clean or the accounts
have a finding (``audit_accounts`` alone prints the accounts; ``--json`` prints the series
report of the API, as it always did), 2 the series asked for does not exist (a cron job
with a typo in ``--series`` must alert, not report "clean" forever).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import audit
from billing.management.commands import audit_accounts

HEADERS = (
    "series", "kind", "first", "last", "count", "gaps", "duplicates", "date order",
    "hash chain", "first broken link", "status",
)  # fmt: skip
SHOWN = 5  # items of a list printed in the table; --json prints them all


def listed(items: Sequence[Any], count: int | None = None) -> str:
    """Summarise a list for a table cell: ``-``, or the count and its first items."""
    total = len(items) if count is None else count
    if not total:
        return "-"
    shown = ", ".join(str(item) for item in items[:SHOWN])
    more = ", ..." if total > min(len(items), SHOWN) else ""
    return f"{total}: {shown}{more}"


def table_row(report: audit.SeriesReport) -> tuple[str, ...]:
    """Return one report as the cells of a table row."""
    return (
        report.series,
        report.kind,
        "-" if report.first is None else str(report.first),
        "-" if report.last is None else str(report.last),
        str(report.count),
        listed(report.gaps, report.gap_count),
        listed(report.duplicates),
        listed(report.date_order_violations),
        "ok" if report.hash_chain_ok else "BROKEN",
        report.first_broken_link or "-",
        "CLEAN" if report.clean else "NOT CLEAN",
    )


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Align ``rows`` under ``HEADERS`` in columns."""
    widths = [max(len(row[i]) for row in (HEADERS, *rows)) for i in range(len(HEADERS))]
    lines = [HEADERS, tuple("-" * width for width in widths), *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


class Command(BaseCommand):
    help = (
        "Check every invoice and credit-note series: no gap, no duplicate, dates in number "
        "order, hash chain intact; then the journals and closings (as audit_accounts). "
        "Exit code 1 when any series is not clean or the accounts have a finding, 2 when "
        "the series asked for does not exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--series", help="check one series only")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the report as JSON"
        )

    def handle(self, *args: Any, series: str | None, as_json: bool, **options: Any) -> None:
        try:
            reports = audit.audit_sequences(series=series)
        except audit.UnknownSeries as exc:
            raise CommandError(exc.message, returncode=2) from exc
        # One series asked for: its documents only, not the books of every zone.
        accounts = None if series else audit.audit_accounts()
        if as_json:
            self.stdout.write(json.dumps([report.as_dict() for report in reports], indent=2))
        elif not reports:
            what = f"series {series}" if series else "any series"
            self.stdout.write(f"No invoices or credit notes in {what}: nothing to audit.")
        else:
            self.stdout.write(format_table([table_row(report) for report in reports]))
        if accounts is not None and not as_json and (accounts.journals or accounts.findings):
            self.stdout.write("\n" + audit_accounts.accounts_text(accounts))
        dirty = [report.series for report in reports if not report.clean]
        problems = []
        if dirty:
            problems.append(f"{len(dirty)} of {len(reports)} series NOT CLEAN: {', '.join(dirty)}")
        if accounts is not None and not accounts.clean:
            problems.append(f"accounts NOT CLEAN: {audit_accounts.summary(accounts)}")
        if problems:
            raise CommandError("; ".join(problems), returncode=1)
        if reports and not as_json:
            self.stdout.write(self.style.SUCCESS(f"All {len(reports)} series clean."))
        if accounts is not None and accounts.journals and not as_json:
            self.stdout.write(self.style.SUCCESS("Journals and closings clean."))
