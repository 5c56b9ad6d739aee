"""Write the finance export (the CSV of ``GET /api/invoices/export/``) to a file or stdout."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from billing import exports

PROGRESS_EVERY_SECONDS = 0.2


def instant(text: str) -> datetime:
    """Parse an ISO 8601 instant that carries an offset or ``Z``.

    Raises:
        argparse.ArgumentTypeError: not ISO 8601, or without an offset.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no offset: give one or Z, e.g. 2026-01-01T00:00:00+01:00"
        )
    return value


class Progress:
    """Rows written and the rate, redrawn in place on a terminal; silent elsewhere."""

    def __init__(self, stream: OutputWrapper | None) -> None:
        self.stream = stream
        self.started = self.drawn = time.monotonic()

    def update(self, rows: int, *, final: bool = False) -> None:
        """Redraw the line, at most every ``PROGRESS_EVERY_SECONDS`` unless ``final``."""
        if self.stream is None:
            return
        now = time.monotonic()
        if not final and now - self.drawn < PROGRESS_EVERY_SECONDS:
            return
        self.drawn = now
        rate = rows / max(now - self.started, 1e-9)
        line = f"\r{rows:,} documents written, {rate:,.0f}/s"
        self.stream.write(line + ("\n" if final else ""), style_func=str, ending="")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Export the invoices and credit notes issued in [--from, --to) as CSV "
        "(the same file as GET /api/invoices/export/)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="issued_from", type=instant, help="included, e.g. 2026-01-01T00:00Z"
        )
        parser.add_argument(
            "--to", dest="issued_to", type=instant, help="excluded, e.g. 2026-02-01T00:00Z"
        )
        parser.add_argument("--series", help="one series (an invoice series with its credits)")
        parser.add_argument("--output", required=True, help="a file to write, or - for stdout")

    def handle(
        self,
        *args: Any,
        issued_from: datetime | None,
        issued_to: datetime | None,
        series: str | None,
        output: str,
        **options: Any,
    ) -> None:
        if issued_from is not None and issued_to is not None and not issued_from < issued_to:
            raise CommandError("--to must be after --from (the period is [from, to)).")
        documents = [0]
        chunks = exports.export_bytes(
            issued_from=issued_from, issued_to=issued_to, series=series, counter=documents
        )
        progress = Progress(self.stderr if self.stderr.isatty() else None)
        if output == "-":
            count = self._write(chunks, self.stdout, progress, documents)
            self.stderr.write(f"{count} documents exported.", style_func=str)
            return
        path = Path(output)
        # Written beside the target and renamed once complete: a failed run never leaves a
        # truncated file that looks like a finished export.
        unfinished = path.with_name(path.name + ".partial")
        try:
            with unfinished.open("wb") as file:
                count = self._write(chunks, file, progress, documents)
            os.replace(unfinished, path)
        finally:
            unfinished.unlink(missing_ok=True)
        self.stdout.write(f"{count} documents exported to {path}.")

    def _write(
        self,
        chunks: Iterable[bytes],
        out: BinaryIO | OutputWrapper,
        progress: Progress,
        documents: list[int],
    ) -> int:
        """Write the chunks; return how many documents (rows after the header) were written."""
        write: Callable[[bytes], Any]
        if isinstance(out, OutputWrapper):
            # The same bytes to stdout: through the text stream's own binary buffer.
            out.flush()
            binary = getattr(out._out, "buffer", None)
            write = (
                binary.write
                if binary is not None
                else lambda data: out.write(data.decode(), ending="")
            )
        else:
            write = out.write
        for chunk in chunks:
            write(chunk)
            progress.update(documents[0])
        if isinstance(out, OutputWrapper) and getattr(out._out, "buffer", None) is not None:
            out._out.buffer.flush()
        progress.update(documents[0], final=True)
        return documents[0]
