"""Print the accounts audit of ``GET /api/audit/accounts/``; exit 1 on any finding."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import audit

JOURNAL_HEADERS = (
    "journal", "fiscal year", "first", "last", "count", "gaps", "duplicates", "date order",
    "debit", "credit", "status",
)  # fmt: skip
CHAIN_HEADERS = (
    "zone", "time zone", "currency", "kind", "closings", "first", "last", "hash chain",
    "first broken link", "totals", "status",
)  # fmt: skip


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Align ``rows`` under ``headers`` in columns."""
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]
    lines = [headers, tuple("-" * width for width in widths), *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def status(clean: bool) -> str:
    """Say whether a row is clean, as the series table does."""
    return "CLEAN" if clean else "NOT CLEAN"


def accounts_text(report: audit.AccountsReport) -> str:
    """Return the accounts audit as text: journals, closing chains, then every finding."""
    parts = []
    if report.journals:
        rows = [
            (
                journal.journal_code,
                str(journal.fiscal_year),
                str(journal.first),
                str(journal.last),
                str(journal.count),
                str(journal.gap_count or "-"),
                str(journal.duplicate_count or "-"),
                str(journal.date_order_violations or "-"),
                journal.amount(journal.debit),
                journal.amount(journal.credit),
                status(journal.clean),
            )
            for journal in report.journals
        ]
        parts += ["", "Journals", columns(JOURNAL_HEADERS, rows)]
    chains = [chain for chain in report.closings if chain.count]
    if chains:
        rows = [
            (
                chain.series_prefix,
                chain.time_zone,
                chain.currency,
                chain.kind,
                str(chain.count),
                chain.first_period or "-",
                chain.last_period or "-",
                "ok" if chain.hash_chain_ok else "BROKEN",
                chain.first_broken_link or "-",
                "ok" if chain.totals_ok else "DIFFER",
                status(chain.clean),
            )
            for chain in chains
        ]
        parts += ["", "Closings", columns(CHAIN_HEADERS, rows)]
    if report.findings:
        parts += ["", "Findings"]
        parts += [f"- {f.check}: {f.subject}: {f.detail}" for f in report.findings]
        listed = len(report.findings)
        total = sum(report.finding_counts.values())
        if total > listed:
            parts.append(f"... and {total - listed} more")
    return "\n".join(parts).lstrip("\n")


def summary(report: audit.AccountsReport) -> str:
    """Name the findings by check, with their counts: what the exit message says."""
    return ", ".join(f"{check} x{count}" for check, count in report.finding_counts.items())


class Command(BaseCommand):
    help = (
        "Check the journals (balanced, numbered without gaps, every document posted once and"
        " as its totals say) and the closing chains (unaltered, totals recomputed from the"
        " documents). Exit code 1 on any finding."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the report as JSON"
        )

    def handle(self, *args: Any, as_json: bool, **options: Any) -> None:
        report = audit.audit_accounts()
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        elif report.journals or report.findings:
            self.stdout.write(accounts_text(report))
        else:
            self.stdout.write("No journal entries or closings: nothing to audit.")
        if not report.clean:
            raise CommandError(f"accounts NOT CLEAN: {summary(report)}", returncode=1)
        if not as_json and report.journals:
            self.stdout.write(self.style.SUCCESS("Journals and closings clean."))
