"""Zones: create one after checking its clock and its money."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing import money
from core import localtime, transactions
from core.errors import ConflictError, DomainError
from fleet.models import Zone


class InvalidZone(DomainError):
    """A zone's clock, money or VAT rate is not usable; ``details["field"]`` names it."""

    code = "invalid_zone"


class ZoneExists(ConflictError):
    """Another zone has that code or invoice prefix."""

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


@transactions.use_case
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
    if (
        Zone.objects.filter(code=code).exists()
        or Zone.objects.filter(invoice_prefix=invoice_prefix).exists()
    ):
        raise ZoneExists(f"A zone with code {code!r} or prefix {invoice_prefix!r} exists.")
    try:
        with transaction.atomic():  # a savepoint: the same zone created concurrently
            return Zone.objects.create(
                code=code,
                name=name,
                time_zone=time_zone,
                currency=currency,
                vat_rate=vat_rate,
                invoice_prefix=invoice_prefix,
                yearly_series=yearly_series,
                created_at=now,
            )
    except IntegrityError as exc:
        raise ZoneExists(f"A zone with code {code!r} or prefix {invoice_prefix!r} exists.") from exc
