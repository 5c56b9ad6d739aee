"""Zones: create one after checking its clock and its money; later, rename it or change its VAT.

Once a tariff prices in a zone, its clock (time zone), money (currency) and invoice series
(code, prefix, yearly series) are history: invoices and their numbers were made from them.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Final

from django.db import IntegrityError, transaction

from billing import money
from core import localtime, transactions
from core.errors import ConflictError, DomainError
from fleet.models import Zone

#: Fields a zone keeps once a tariff prices in it.
FROZEN_ONCE_USED: Final = ("code", "time_zone", "currency", "invoice_prefix", "yearly_series")
_PREFIX: Final = re.compile(r"[A-Z][A-Z0-9]{1,9}", re.ASCII)


class InvalidZone(DomainError):
    """A zone's clock, money or VAT rate is not usable; ``details["field"]`` names it."""

    code = "invalid_zone"


class ZoneExists(ConflictError):
    """Another zone has that code or invoice prefix."""

    code = "zone_exists"


class ZoneInUse(ConflictError):
    """A tariff prices in the zone: its clock, money and series can no longer change."""

    code = "zone_in_use"


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
        InvalidZone: unknown time zone or currency, VAT rate outside [0, 1), malformed prefix.
        ZoneExists: the code or the invoice prefix is taken.
    """
    _check(time_zone=time_zone, currency=currency, vat_rate=vat_rate, prefix=invoice_prefix)
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


@transactions.use_case
def change_zone(
    *,
    zone_id: int,
    code: str,
    name: str,
    time_zone: str,
    currency: str,
    vat_rate: Decimal,
    invoice_prefix: str,
    yearly_series: bool,
) -> Zone:
    """Change a zone: its name and VAT rate always, the rest while no tariff prices in it.

    Raises:
        InvalidZone: unknown time zone or currency, VAT rate outside [0, 1), malformed prefix.
        ZoneInUse: a frozen field would change although a tariff prices in the zone.
        ZoneExists: the new code or invoice prefix is another zone's.
        Zone.DoesNotExist: no zone has that id.
    """
    # Locked so that a tariff published meanwhile sees the zone as it is stored.
    zone = Zone.objects.select_for_update().get(pk=zone_id)
    wanted = {
        "code": code,
        "time_zone": time_zone,
        "currency": currency,
        "invoice_prefix": invoice_prefix,
        "yearly_series": yearly_series,
    }
    changed = [field for field in FROZEN_ONCE_USED if getattr(zone, field) != wanted[field]]
    if changed and zone.tariffs.exists():
        raise ZoneInUse(
            f"A tariff prices in zone {zone.code}: its {', '.join(changed)} can no longer"
            " change (create another zone instead).",
            field=changed[0],
        )
    _check(time_zone=time_zone, currency=currency, vat_rate=vat_rate, prefix=invoice_prefix)
    for field, value in {**wanted, "name": name, "vat_rate": vat_rate}.items():
        setattr(zone, field, value)
    try:
        with transaction.atomic():  # a savepoint: the unique code and prefix decide
            zone.save()
    except IntegrityError as exc:
        raise ZoneExists(f"A zone with code {code!r} or prefix {invoice_prefix!r} exists.") from exc
    return zone


def _check(*, time_zone: str, currency: str, vat_rate: Decimal, prefix: str) -> None:
    validate_time_zone(time_zone)
    try:
        money.minor_unit(currency)
    except money.UnknownCurrency as exc:
        raise InvalidZone(str(exc), code="unknown_currency", field="currency") from exc
    if not Decimal(0) <= vat_rate < Decimal(1):
        raise InvalidZone("vat_rate must be at least 0 and below 1.", field="vat_rate")
    if _PREFIX.fullmatch(prefix) is None:
        raise InvalidZone(
            "invoice_prefix is 2 to 10 capitals and digits, starting with a capital.",
            field="invoice_prefix",
        )
