"""Price a rental under a tariff: the normative pricing rule, in pure Python.

For a rental from ``started_at`` to ``ended_at`` (docs/reference/pricing-rule.md):

1. ``elapsed = ended_at - started_at`` in absolute time; negative is refused.
2. Billable minutes ``n = ceil(elapsed / 1 minute)`` (every started minute counts), then at
   least ``minimum_minutes``.
3. Minute ``k`` starts at ``started_at + k minutes`` and is billed at the band in force at
   its local wall-clock time in the zone (before the first band, the last one: bands wrap
   around midnight).
3b. A minute whose start lies in a parked interval ``[paused_at, resumed_at)`` is billed at
   ``park_per_minute`` whatever the band (when the tariff has one; otherwise step 3 applies).
   Minutes added by ``minimum_minutes`` past ``ended_at`` are never parked.
4. Minutes are grouped by the local calendar date of their start; each date's exact sum
   (driving and parked together) is rounded half-up to the currency's minor unit, then
   capped at ``daily_cap``.
5. Prices include VAT at the zone's rate.
6. Distance: ``max(0, distance_km - included_km) x per_km``, rounded half-up, once per
   rental, never capped.
7. Total = ``unlock_fee`` + the dates' amounts + the distance charge.

The result is a ``charges.Charge`` whose lines sum to its total. Minutes are never walked one
by one: ``billing._minutes`` counts them per date and band in segments. No Django here, ever:
aware datetimes, ``Decimal`` and ``ZoneInfo`` in, frozen values out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from billing import _minutes, charges, money
from core import localtime
from core.errors import DomainError

UNLOCK_FEE: Final = "UNLOCK_FEE"
MINUTES: Final = "MINUTES"
PARKED_MINUTES: Final = "PARKED_MINUTES"
DAILY_CAP: Final = "DAILY_CAP"
DISTANCE: Final = "DISTANCE"
MINUTE_UNIT: Final = "minute"
_TENTH: Final = Decimal("0.1")

# Sums of minutes x rate must be exact before the one rounding, whatever the caller's
# decimal context: this one never rounds.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_ONE: Final = Decimal(1)


class InvalidTariff(DomainError, ValueError):
    """A tariff or band breaks a rule; ``details["field"]`` names the culprit."""

    code = "invalid_tariff"


class EndsBeforeStart(DomainError):
    """The period ends before it starts (compared as absolute instants)."""

    code = "ends_before_start"


class InvalidParkedInterval(DomainError):
    """A parked interval is reversed, outside the rental, or overlaps another."""

    code = "invalid_parked_interval"


class InvalidDistance(DomainError):
    """A distance is negative, not a decimal, or has more than one decimal."""

    code = "invalid_distance"


@dataclass(frozen=True, slots=True)
class Parked:
    """A parked interval of a rental, half-open: ``[paused_at, resumed_at)``."""

    paused_at: dt.datetime
    resumed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Band:
    """A per-minute rate in force from ``starts_at`` (local wall-clock time) onwards."""

    starts_at: dt.time
    per_minute: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.starts_at, dt.time) or self.starts_at.tzinfo is not None:
            raise InvalidTariff(
                f"A band's starts_at must be a datetime.time without tzinfo, "
                f"got {self.starts_at!r}.",
                field="starts_at",
            )
        _check_amount(self.per_minute, "per_minute")


@dataclass(frozen=True, slots=True, kw_only=True)
class Tariff:
    """Bands of per-minute rates over the local day, plus fee, minimum and daily cap.

    ``bands`` must be strictly increasing by ``starts_at`` and is stored as a tuple;
    before the first band's start, the last band applies (bands wrap around midnight).
    ``daily_cap=None`` means no cap. ``unlock_fee`` and ``daily_cap`` are stored money
    values: prices use them rounded with ``money.round_money``. ``vat_rate`` is the zone's:
    prices include it, and every line of the charge carries it. ``park_per_minute=None``
    means parked minutes cost what driving minutes cost; ``per_km`` is charged for each km
    beyond ``included_km`` (a whole number) per rental.
    """

    time_zone: str
    currency: str
    bands: Sequence[Band]
    vat_rate: Decimal
    unlock_fee: Decimal = Decimal(0)
    minimum_minutes: int = 0
    daily_cap: Decimal | None = None
    park_per_minute: Decimal | None = None
    per_km: Decimal = Decimal(0)
    included_km: int = 0
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _band_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = localtime.load_time_zone(self.time_zone)
        except localtime.UnknownTimeZone as exc:
            raise InvalidTariff(exc.message, field="time_zone") from None
        object.__setattr__(self, "_zone", zone)
        try:
            money.minor_unit(self.currency)
        except money.UnknownCurrency as exc:
            raise InvalidTariff(exc.message, field="currency") from None
        bands = _check_bands(self.bands)
        object.__setattr__(self, "bands", bands)
        starts = tuple(_minutes.time_of_day(band.starts_at) for band in bands)
        object.__setattr__(self, "_band_starts", starts)
        _check_amount(self.unlock_fee, "unlock_fee")
        if not isinstance(self.vat_rate, Decimal) or not Decimal(0) <= self.vat_rate < 1:
            raise InvalidTariff(
                f"vat_rate must be a Decimal in [0, 1), got {self.vat_rate!r}.", field="vat_rate"
            )
        if self.daily_cap is not None:
            _check_amount(self.daily_cap, "daily_cap")
        if self.park_per_minute is not None:
            _check_amount(self.park_per_minute, "park_per_minute")
        _check_amount(self.per_km, "per_km")
        for name in ("minimum_minutes", "included_km"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidTariff(f"{name} must be an int >= 0, got {value!r}.", field=name)


def price(
    tariff: Tariff,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    *,
    parked: Sequence[Parked] = (),
    distance_km: Decimal = Decimal(0),
) -> charges.Charge:
    """Price the rental from ``started_at`` to ``ended_at`` under ``tariff``.

    Instants must be aware; their offsets do not matter, only the instants do. The charge's
    period is the same two instants in UTC. ``parked`` are the rental's parked intervals,
    in order, inside the rental; ``distance_km`` is what it drove.

    Raises:
        TypeError: an instant is not a ``datetime``.
        ValueError: an instant is naive.
        EndsBeforeStart: ``ended_at`` is before ``started_at``.
        InvalidParkedInterval: an interval is reversed, outside the rental, or overlapping.
        InvalidDistance: the distance is negative or has more than one decimal.
    """
    start, end = _to_utc(started_at, "started_at"), _to_utc(ended_at, "ended_at")
    # 1. Elapsed time between the two instants, never wall-clock subtraction.
    if end < start:
        raise EndsBeforeStart(
            f"ended_at ({localtime.utc_iso(end)}) is before started_at"
            f" ({localtime.utc_iso(start)}).",
            started_at=localtime.utc_iso(start),
            ended_at=localtime.utc_iso(end),
        )
    intervals = _parked_micros(parked, start, end)
    km = _billable_km(distance_km, tariff.included_km)
    first, elapsed = _minutes.micros(start), _minutes.micros(end) - _minutes.micros(start)
    # 2. Every started minute counts, then at least the tariff's minimum.
    minutes = max(-(-elapsed // _minutes.MINUTE), tariff.minimum_minutes)
    # 3. Minute k starts at first + k minutes and takes the band of its local wall time;
    # 4. ...grouped by the local date of its start.
    zone, starts = tariff._zone, tariff._band_starts
    by_date = _minutes.count_minutes(
        zone, starts, origin=first, start=first, stop=first + minutes * _minutes.MINUTE
    )
    # 3b. The parked ones among them, counted the same way (the same grid of minutes).
    parked_by_date: _minutes.Counts = {}
    if tariff.park_per_minute is not None:
        for paused, resumed in intervals:
            counted = _minutes.count_minutes(zone, starts, origin=first, start=paused, stop=resumed)
            for day, bands in counted.items():
                day_bands = parked_by_date.setdefault(day, {})
                for band, count in bands.items():
                    day_bands[band] = day_bands.get(band, 0) + count
    # 5. The unlock fee, then each date rounded once and capped.
    lines = [*_unlock_fee(tariff, _minutes.local_date(_minutes.local_day(zone, first)))]
    priced: dict[object, tuple[charges.ChargeLine, ...]] = {}
    for day in sorted(by_date):
        counts = tuple(by_date[day].items())
        parked_counts = parked_by_date.get(day, {})
        # Long rentals repeat the same day: price each distinct day once, then date it.
        key = (counts, tuple(sorted(parked_counts.items())))
        template = priced.get(key)
        if template is None:
            template = priced[key] = tuple(
                charges.ChargeLine(**line) for line in _price_date(tariff, counts, parked_counts)
            )
        local_date = _minutes.local_date(day)
        lines.extend(line.dated(local_date) for line in template)
    # 6. Distance beyond what is included, once, never capped.
    end_date = _minutes.local_date(_minutes.local_day(zone, _minutes.micros(end)))
    lines.extend(_distance(tariff, km, distance_km, end_date))
    # 7. The total is the sum of these lines (the charge computes it).
    return charges.Charge(
        currency=tariff.currency,
        time_zone=tariff.time_zone,
        started_at=start,
        ended_at=end,
        lines=tuple(lines),
    )


def billable_minutes(charge: charges.Charge) -> int:
    """Return the minutes a rental's charge bills (every minute line, at whatever rate)."""
    return int(sum(line.quantity for line in charge.lines if line.unit == MINUTE_UNIT))


def _unlock_fee(tariff: Tariff, local_date: dt.date) -> list[charges.ChargeLine]:
    fee = money.round_money(tariff.unlock_fee, tariff.currency)
    if not fee:
        return []
    return [
        charges.ChargeLine(
            kind=UNLOCK_FEE,
            description="Unlock fee",
            quantity=_ONE,
            unit="unit",
            unit_price=fee,
            amount=fee,
            vat_rate=tariff.vat_rate,
            local_date=local_date,
        )
    ]


def _price_date(
    tariff: Tariff, counts: tuple[tuple[int, int], ...], parked: dict[int, int]
) -> tuple[dict[str, Any], ...]:
    """Price one local date: exact sum, one rounding, cap, shares that add up to it.

    ``counts`` are all the date's minutes per band (in the order each band's first minute
    occurs), ``parked`` those of them that were parked. Returns the date's lines as the
    arguments of ``ChargeLine`` but its date, so that identical days are priced once.
    """
    currency, bands = tariff.currency, tariff.bands
    driving = [(band, minutes - parked.get(band, 0)) for band, minutes in counts]
    driving = [(band, minutes) for band, minutes in driving if minutes]
    parked_minutes = sum(parked.values())
    weights = [_EXACT.multiply(bands[band].per_minute, minutes) for band, minutes in driving]
    if parked_minutes:
        assert tariff.park_per_minute is not None  # parked minutes are counted only then
        weights.append(_EXACT.multiply(tariff.park_per_minute, parked_minutes))
    uncapped = money.round_money(_sum(weights), currency)
    cap = None if tariff.daily_cap is None else money.round_money(tariff.daily_cap, currency)
    capped = cap is not None and uncapped > cap
    shares = money.allocate(uncapped, weights, currency)
    lines = [
        {
            "kind": MINUTES,
            "description": f"Minutes, {bands[band].starts_at:%H:%M} band",
            "quantity": Decimal(minutes),
            "unit": MINUTE_UNIT,
            "unit_price": bands[band].per_minute,
            "amount": share,
            "vat_rate": tariff.vat_rate,
            "details": {"band_starts_at": bands[band].starts_at.isoformat(), "capped": capped},
        }
        for (band, minutes), share in zip(driving, shares[: len(driving)], strict=True)
    ]
    if parked_minutes:
        assert tariff.park_per_minute is not None
        lines.append(
            {
                "kind": PARKED_MINUTES,
                "description": "Parked minutes",
                "quantity": Decimal(parked_minutes),
                "unit": MINUTE_UNIT,
                "unit_price": tariff.park_per_minute,
                "amount": shares[-1],
                "vat_rate": tariff.vat_rate,
                "details": {"capped": capped},
            }
        )
    if capped:
        assert cap is not None
        reduction = _EXACT.subtract(cap, uncapped)
        lines.append(
            {
                "kind": DAILY_CAP,
                "description": "Daily cap",
                "quantity": _ONE,
                "unit": "day",
                "unit_price": reduction,
                "amount": reduction,
                "vat_rate": tariff.vat_rate,
                "details": {"capped": True},
            }
        )
    return tuple(lines)


def _distance(
    tariff: Tariff, km: Decimal, distance_km: Decimal, local_date: dt.date
) -> list[charges.ChargeLine]:
    amount = money.round_money(_EXACT.multiply(km, tariff.per_km), tariff.currency)
    if not amount:
        return []
    return [
        charges.ChargeLine(
            kind=DISTANCE,
            description=f"Distance beyond {tariff.included_km} km included",
            quantity=km,
            unit="km",
            unit_price=tariff.per_km,
            amount=amount,
            vat_rate=tariff.vat_rate,
            local_date=local_date,
            details={"distance_km": str(distance_km), "included_km": tariff.included_km},
        )
    ]


def _parked_micros(
    parked: Sequence[Parked], start: dt.datetime, end: dt.datetime
) -> list[tuple[int, int]]:
    """Return the parked intervals as microseconds, checked: in order, inside, disjoint."""
    intervals: list[tuple[int, int]] = []
    previous = start
    for index, interval in enumerate(parked):
        if not isinstance(interval, Parked):
            raise TypeError(f"parked[{index}] is not a Parked interval.")
        paused = _to_utc(interval.paused_at, "paused_at")
        resumed = _to_utc(interval.resumed_at, "resumed_at")
        if resumed < paused:
            raise InvalidParkedInterval(
                f"parked[{index}] resumes before it pauses.", field="parked", index=index
            )
        if paused < previous or resumed > end:
            raise InvalidParkedInterval(
                f"parked[{index}] must lie inside the rental, after the interval before it.",
                field="parked",
                index=index,
            )
        intervals.append((_minutes.micros(paused), _minutes.micros(resumed)))
        previous = resumed
    return intervals


def _billable_km(distance_km: Decimal, included_km: int) -> Decimal:
    """Return the km beyond ``included_km``, refusing a distance that is not a usable one."""
    if (
        not isinstance(distance_km, Decimal)
        or not distance_km.is_finite()
        or distance_km < 0
        or distance_km != distance_km.quantize(_TENTH, context=_EXACT)
    ):
        raise InvalidDistance(
            f"distance_km must be a decimal >= 0 with at most one decimal, got {distance_km!r}.",
            field="distance_km",
        )
    return max(Decimal(0), _EXACT.subtract(distance_km, Decimal(included_km)))


def _to_utc(instant: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(instant, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(instant).__name__}.")
    if instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}.")
    return instant.astimezone(dt.UTC)


def _sum(amounts: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for amount in amounts:
        total = _EXACT.add(total, amount)
    return total


def _check_bands(bands: object) -> tuple[Band, ...]:
    if isinstance(bands, str | bytes) or not isinstance(bands, Sequence):
        raise InvalidTariff("bands must be a sequence of Band.", field="bands")
    checked = tuple(bands)
    if not checked:
        raise InvalidTariff("A tariff needs at least one band.", field="bands")
    for index, band in enumerate(checked):
        if not isinstance(band, Band):
            raise InvalidTariff(f"bands[{index}] is not a Band: {band!r}.", field="bands")
        if index and band.starts_at <= checked[index - 1].starts_at:
            # Sorting silently would hide a typo in the stored tariff.
            raise InvalidTariff(
                f"Bands must start in strictly increasing order: bands[{index}] starts at "
                f"{band.starts_at.isoformat()}, not after bands[{index - 1}].",
                field="bands",
            )
    return checked


def _check_amount(value: object, name: str) -> None:
    if not isinstance(value, Decimal):
        raise InvalidTariff(
            f"{name} must be a Decimal (built from a string), not {type(value).__name__}.",
            field=name,
        )
    if not value.is_finite() or value < 0:
        raise InvalidTariff(f"{name} must be a finite amount >= 0, got {value}.", field=name)
