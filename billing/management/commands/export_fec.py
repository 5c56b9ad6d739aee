"""Write the FEC of a fiscal year (the file of ``GET /api/accounting/fec/``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.accounting import fec
from core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Write the FEC (fichier des écritures comptables) of a fiscal year, named"
        " {SIREN}FEC{YYYYMMDD}.txt, into --directory (default: the current one), or to stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fiscal-year", type=int, required=True, help="e.g. 2026")
        parser.add_argument("--directory", default=".", help="where to write the file")
        parser.add_argument(
            "--to-stdout", action="store_true", help="write to stdout instead of a file"
        )

    def handle(
        self, *args: Any, fiscal_year: int, directory: str, to_stdout: bool, **options: Any
    ) -> None:
        try:
            lines = fec.records(fiscal_year)  # refusals come before anything is written
            name = fec.filename(fiscal_year)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if to_stdout:
            count = self._write(lines, sys.stdout.buffer)
            self.stderr.write(f"{count} records exported.", style_func=str)
            return
        path = Path(directory) / name
        # Written beside the target and renamed once complete: a failed run never leaves a
        # truncated file that looks like a finished FEC.
        unfinished = path.with_name(path.name + ".partial")
        try:
            with unfinished.open("wb") as file:
                count = self._write(lines, file)
            os.replace(unfinished, path)
        finally:
            unfinished.unlink(missing_ok=True)
        self.stdout.write(f"{count} records of fiscal year {fiscal_year} written to {path}.")

    def _write(self, lines: Iterator[str], out: BinaryIO) -> int:
        """Write the records; return how many entry lines (records after the header)."""
        counter = [0]
        for chunk in fec.chunks(_counted(lines, counter)):
            out.write(chunk)
        return counter[0] - 1


def _counted(lines: Iterator[str], counter: list[int]) -> Iterator[str]:
    for line in lines:
        counter[0] += 1
        yield line
