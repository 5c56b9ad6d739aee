"""How staff read documents in the admin: local time with its offset, amounts, VAT rates.

The API writes instants in UTC with a ``*_local`` twin; people read the document's own
wall clock first, with the offset that says which of a fall-back night's two 02:30s it was.
Amounts carry the currency's decimals (``1.35``, never ``1.3500``); a VAT rate is a percent.
Pure: no Django.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from billing import money
from core import localtime


def local_time(instant: datetime, time_zone: str) -> str:
    """Show ``instant`` as ``2026-01-15 09:06 +01:00`` in ``time_zone`` (UTC if it is unknown)."""
    zone: tzinfo
    try:
        zone = localtime.load_time_zone(time_zone)
    except localtime.UnknownTimeZone:
        zone = UTC
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {localtime.format_offset(local.utcoffset())}"


def utc_time(instant: datetime) -> str:
    """Show ``instant`` as ``2026-01-15 08:06:12 UTC``."""
    return f"{instant.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def amount(value: Decimal | None, currency: str) -> str:
    """Show an amount with the currency's decimals (``1.35``), or a dash when there is none."""
    return "-" if value is None else money.format_amount(value, currency)


def rate(value: Decimal | None, currency: str) -> str:
    """Show a unit price with the currency's decimals at least (``0.35``, ``0.125``)."""
    return "-" if value is None else money.format_rate(value, currency)


def percent(vat_rate: Decimal | None) -> str:
    """Show a VAT rate as a percent: ``0.20`` is ``20%``, ``0.055`` is ``5.5%``."""
    if vat_rate is None:
        return "-"
    return f"{(vat_rate * 100).normalize():f}%"
