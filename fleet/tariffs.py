"""Tariffs: publish one (validated by the pricing core), find the one in force, convert it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing import pricing
from core import transactions
from core.errors import ConflictError
from core.localtime import utc_iso
from fleet.models import Tariff, TariffBand, Zone


class NoTariff(ConflictError):
    """No tariff for the plan is in force in the zone at that instant."""

    code = "no_tariff"


class TariffExists(ConflictError):
    """A tariff for the zone and plan already starts at that instant."""

    code = "tariff_exists"


@transactions.use_case
def publish_tariff(
    *,
    zone: Zone,
    plan: str,
    valid_from: datetime,
    bands: Sequence[tuple[time, Decimal]],
    unlock_fee: Decimal,
    minimum_minutes: int,
    daily_cap: Decimal | None,
    now: datetime,
    park_per_minute: Decimal | None = None,
    per_km: Decimal = Decimal(0),
    included_km: int = 0,
) -> Tariff:
    """Store a new tariff after the pricing core has accepted it.

    Without ``park_per_minute``, ``per_km`` and ``included_km`` it prices exactly as a tariff
    did before parking and distance existed.

    Raises:
        pricing.InvalidTariff: bands unsorted or repeated, negative amounts, and the like.
        TariffExists: a tariff for this zone and plan already starts at ``valid_from``.
    """
    pricing.Tariff(
        time_zone=zone.time_zone,
        currency=zone.currency,
        vat_rate=zone.vat_rate,
        bands=[pricing.Band(starts_at=start, per_minute=rate) for start, rate in bands],
        unlock_fee=unlock_fee,
        minimum_minutes=minimum_minutes,
        daily_cap=daily_cap,
        park_per_minute=park_per_minute,
        per_km=per_km,
        included_km=included_km,
    )

    exists = TariffExists(
        f"A {plan!r} tariff for {zone.code} already starts at {utc_iso(valid_from)}."
    )
    if Tariff.objects.filter(zone=zone, plan=plan, valid_from=valid_from).exists():
        raise exists
    try:
        with transaction.atomic():  # a savepoint: the same tariff published concurrently
            tariff = Tariff.objects.create(
                zone=zone,
                plan=plan,
                valid_from=valid_from,
                unlock_fee=unlock_fee,
                minimum_minutes=minimum_minutes,
                daily_cap=daily_cap,
                park_per_minute=park_per_minute,
                per_km=per_km,
                included_km=included_km,
                created_at=now,
            )
    except IntegrityError as exc:
        raise exists from exc
    TariffBand.objects.bulk_create(
        TariffBand(tariff=tariff, starts_at=start, per_minute=rate) for start, rate in bands
    )
    return tariff


def tariff_in_force(*, zone: Zone, plan: str, at: datetime) -> Tariff:
    """Return the tariff for ``plan`` in ``zone`` with the latest ``valid_from`` not after ``at``.

    Raises:
        NoTariff: none is in force at that instant.
    """
    tariff = (
        Tariff.objects.filter(zone=zone, plan=plan, valid_from__lte=at)
        .select_related("zone")
        .prefetch_related("bands")
        .order_by("-valid_from")
        .first()
    )
    if tariff is None:
        raise NoTariff(
            f"No {plan!r} tariff is in force in {zone.code} at {utc_iso(at)}.",
            zone=zone.code,
            plan=plan,
        )
    return tariff


def to_pricing_tariff(tariff: Tariff) -> pricing.Tariff:
    """Convert a stored tariff into the pricing core's value object."""
    bands = sorted(tariff.bands.all(), key=lambda band: band.starts_at)
    return pricing.Tariff(
        time_zone=tariff.zone.time_zone,
        currency=tariff.zone.currency,
        vat_rate=tariff.zone.vat_rate,
        bands=[
            pricing.Band(starts_at=band.starts_at, per_minute=band.per_minute) for band in bands
        ],
        unlock_fee=tariff.unlock_fee,
        minimum_minutes=tariff.minimum_minutes,
        daily_cap=tariff.daily_cap,
        park_per_minute=tariff.park_per_minute,
        per_km=tariff.per_km,
        included_km=tariff.included_km,
    )
