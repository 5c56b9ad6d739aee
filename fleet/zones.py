"""Zones: create one after checking its clock and its money."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError

from billing import money
from core import localtime
from core.errors import ConflictError, DomainError
from core.transactions import run_in_transaction
from fleet.models import Zone


class InvalidZone(DomainError):
    code = "invalid_zone"


class ZoneExists(ConflictError):
    code = "zone_exists"


def validate_time_zone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone known to this machine.

    Raises:
        InvalidZone: for an unknown or malformed name.
    """
    try:
        localtime.load_time_zone(name)
    except localtime.UnknownTimeZone as exc:
        raise InvalidZone(
            f"{name!r} is not an IANA time zone.", code="unknown_time_zone", field="time_zone"
        ) from exc
    return name


def create_zone(
    *,
    code: str,
    name: str,
    time_zone: str,
    currency: str,
    vat_rate: Decimal,
    invoice_prefix: str,
    now: datetime,
    yearly_series: bool = True,
) -> Zone:
    """Create a zone.

    Raises:
        InvalidZone: unknown time zone or currency, VAT rate outside [0, 1).
        ZoneExists: the code or the invoice prefix is taken.
    """
    validate_time_zone(time_zone)
    try:
        money.minor_unit(currency)
    except money.UnknownCurrency as exc:
        raise InvalidZone(str(exc), code="unknown_currency", field="currency") from exc
    if not Decimal(0) <= vat_rate < Decimal(1):
        raise InvalidZone("vat_rate must be at least 0 and below 1.", field="vat_rate")
    try:
        return run_in_transaction(
            lambda: Zone.objects.create(
                code=code,
                name=name,
                time_zone=time_zone,
                currency=currency,
                vat_rate=vat_rate,
                invoice_prefix=invoice_prefix,
                yearly_series=yearly_series,
                created_at=now,
            )
        )
    except IntegrityError as exc:  # the same code or prefix created concurrently
        raise ZoneExists(f"A zone with code {code!r} or prefix {invoice_prefix!r} exists.") from exc
