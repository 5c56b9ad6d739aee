"""Tariffs: publish one (validated by the pricing core), find the one in force, convert it.

A tariff is never edited once published (invoices are priced from it): to change prices,
publish a new one with a later ``valid_from``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Final

from django.db import IntegrityError, transaction

from billing import pricing
from core import transactions
from core.errors import ConflictError
from core.localtime import utc_iso
from fleet.models import Tariff, TariffBand, Zone

# Amounts stay below this, so that any rental priced from them fits the invoice columns.
AMOUNT_BELOW: Final = Decimal(1_000_000)
AMOUNT_PLACES: Final = 4
MAX_MINIMUM_MINUTES: Final = 24 * 60
MAX_INCLUDED_KM: Final = 1_000_000


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
        pricing.InvalidTariff: no band, bands unsorted or repeated, a band start with seconds,
            negative or too large amounts, a naive ``valid_from``, and the like.
        TariffExists: a tariff for this zone and plan already starts at ``valid_from``.
    """
    if valid_from.utcoffset() is None:
        # A wall-clock start would be read in the server's zone, not the tariff's.
        raise pricing.InvalidTariff("valid_from needs an offset.", field="valid_from")
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
    _check_bounds(
        bands=bands,
        amounts={
            "unlock_fee": unlock_fee,
            "daily_cap": daily_cap,
            "park_per_minute": park_per_minute,
            "per_km": per_km,
        },
    )
    if minimum_minutes > MAX_MINIMUM_MINUTES:
        raise pricing.InvalidTariff(
            f"minimum_minutes is at most {MAX_MINIMUM_MINUTES}.", field="minimum_minutes"
        )
    if included_km > MAX_INCLUDED_KM:
        raise pricing.InvalidTariff(
            f"included_km is at most {MAX_INCLUDED_KM}.", field="included_km"
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


def _check_bounds(
    *, bands: Sequence[tuple[time, Decimal]], amounts: dict[str, Decimal | None]
) -> None:
    """Refuse band starts with seconds and amounts too large or too precise to store.

    Raises:
        pricing.InvalidTariff: naming the field.
    """
    for start, _ in bands:
        # Minutes only: a band start with seconds would print ambiguously on invoices.
        if isinstance(start, time) and (start.second or start.microsecond):
            raise pricing.InvalidTariff(
                f"Band starts are whole minutes (HH:MM), not {start.isoformat()}.", field="bands"
            )
    every = [("per_minute", rate) for _, rate in bands] + list(amounts.items())
    for field, amount in every:
        if not isinstance(amount, Decimal) or not amount.is_finite():
            continue  # the pricing core names what is wrong with it
        if amount >= AMOUNT_BELOW:
            raise pricing.InvalidTariff(f"{field} must be below {AMOUNT_BELOW}.", field=field)
        if -int(amount.as_tuple().exponent) > AMOUNT_PLACES:
            raise pricing.InvalidTariff(
                f"{field} has at most {AMOUNT_PLACES} decimal places.", field=field
            )
