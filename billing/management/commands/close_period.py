"""Close every period that has ended: the command beside the periodic job (same function)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing import money
from billing.accounting import closings
from billing.management.commands.export_invoices import instant
from core import clock


class Command(BaseCommand):
    help = (
        "Close the days, months and fiscal years that have ended in each zone's calendar"
        " (closings.close_due_periods). Idempotent: a period is never closed twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--until",
            type=instant,
            help="close the periods ended by this instant (default: now); never after the"
            " database clock",
        )

    def handle(self, *args: Any, until: datetime | None, **options: Any) -> None:
        made = closings.close_due_periods(now=until or clock.now())
        for closing in made:
            currency = closing.currency
            self.stdout.write(
                f"{closing.series_prefix} {closing.kind} {closing.start_date}: "
                f"{closing.invoice_count} invoices, {closing.credit_note_count} credit notes, "
                f"total {money.format_amount(closing.total, currency)} {currency}, "
                f"grand total {money.format_amount(closing.perpetual_total, currency)}"
            )
        if made:
            self.stdout.write(self.style.SUCCESS(f"{len(made)} periods closed."))
        else:
            self.stdout.write("Nothing to close: every period that has ended is closed.")
