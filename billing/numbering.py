"""Series names and gapless numbers (django-sequences).

A series is the zone's prefix and the year of the issue date in the zone's time zone
(``PAR-2027`` for an invoice issued at 2026-12-31T23:30Z in Paris), or the prefix alone for
a continuous series. The counter row is locked from ``get_next_value`` until the use case's
transaction ends, which is why the number is taken as late as possible; a batch of documents
takes its numbers with one ``get_next_values``, so one counter lock serves the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sequences import get_next_value, get_next_values

from core import transactions

CREDIT_NOTE_PREFIX = "AV-"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesRule:
    """How a zone names its invoice series: its prefix, and whether each local year restarts."""

    prefix: str
    yearly: bool = True

    def series_at(self, issued_at: datetime, time_zone: str) -> str:
        """Return the series of a document issued at ``issued_at`` in ``time_zone``."""
        return series_name(
            prefix=self.prefix, yearly=self.yearly, issued_at=issued_at, time_zone=time_zone
        )


def series_name(*, prefix: str, yearly: bool, issued_at: datetime, time_zone: str) -> str:
    """Return the series an invoice issued at ``issued_at`` belongs to."""
    if not yearly:
        return prefix
    return f"{prefix}-{issued_at.astimezone(ZoneInfo(time_zone)).year}"


def credit_note_series(invoice_series: str) -> str:
    """Return the credit notes' series for an invoice series."""
    return f"{CREDIT_NOTE_PREFIX}{invoice_series}"


def document_number(series: str, sequence: int) -> str:
    """Format a document number: ``PAR-2026-000123``."""
    return f"{series}-{sequence:06d}"


def take_number(series: str) -> int:
    """Take the next number of ``series``; the counter stays locked until the transaction ends.

    Raises:
        RuntimeError: outside a transaction, where the number would commit on its own and a
            failed insert would leave a gap.
    """
    transactions.require_transaction("take_number")
    return int(get_next_value(series))


def take_numbers(series: str, count: int) -> range:
    """Take the next ``count`` numbers of ``series`` at once: one counter lock for a batch.

    The counter stays locked until the transaction ends, exactly as for one number; a
    rollback gives every number of the batch back.

    Raises:
        RuntimeError: outside a transaction (a failed insert would leave gaps).
        ValueError: ``count`` is not positive.
    """
    transactions.require_transaction("take_numbers")
    if count < 1:
        raise ValueError(f"cannot take {count} numbers")
    numbers: range = get_next_values(count, series)
    return numbers
