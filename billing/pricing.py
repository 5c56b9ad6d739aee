"""Price a rental under a tariff: the normative pricing rule, in pure Python.

For a rental from ``started_at`` to ``ended_at`` (docs/reference/pricing-rule.md):

1. ``elapsed = ended_at - started_at`` in absolute time; negative is refused.
2. Billable minutes ``n = ceil(elapsed / 1 minute)`` (every started minute counts), then at
   least ``minimum_minutes``.
3. Minute ``k`` starts at ``started_at + k minutes`` and is billed at the band in force at
   its local wall-clock time in the zone (before the first band, the last one: bands wrap
   around midnight).
4. Minutes are grouped by the local calendar date of their start; each date's exact sum is
   rounded half-up to the currency's minor unit, then capped at ``daily_cap``.
5. Total = ``unlock_fee`` + the dates' amounts. Prices include VAT at the zone's rate.

The result is a ``charges.Charge`` whose lines sum to its total. Minutes are never walked one
by one: ``billing._minutes`` counts them per date and band in segments. No Django here, ever:
aware datetimes, ``Decimal`` and ``ZoneInfo`` in, frozen values out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Final
from zoneinfo import ZoneInfo

from billing import _minutes, charges, money
from core import localtime
from core.errors import DomainError

UNLOCK_FEE: Final = "UNLOCK_FEE"
MINUTES: Final = "MINUTES"
DAILY_CAP: Final = "DAILY_CAP"
MINUTE_UNIT: Final = "minute"

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
    prices include it, and every line of the charge carries it.
    """

    time_zone: str
    currency: str
    bands: Sequence[Band]
    vat_rate: Decimal
    unlock_fee: Decimal = Decimal(0)
    minimum_minutes: int = 0
    daily_cap: Decimal | None = None
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
        minimum = self.minimum_minutes
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
            raise InvalidTariff(
                f"minimum_minutes must be an int >= 0, got {minimum!r}.",
                field="minimum_minutes",
            )


def price(tariff: Tariff, started_at: dt.datetime, ended_at: dt.datetime) -> charges.Charge:
    """Price the rental from ``started_at`` to ``ended_at`` under ``tariff``.

    Both instants must be aware; their offsets do not matter, only the instants do. The
    charge's period is the same two instants in UTC.

    Raises:
        TypeError: an instant is not a ``datetime``.
        ValueError: an instant is naive.
        EndsBeforeStart: ``ended_at`` is before ``started_at``.
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
    first, elapsed = _minutes.micros(start), _minutes.micros(end) - _minutes.micros(start)
    # 2. Every started minute counts, then at least the tariff's minimum.
    minutes = max(-(-elapsed // _minutes.MINUTE), tariff.minimum_minutes)
    # 3. Minute k starts at first + k minutes and takes the band of its local wall time;
    # 4. ...grouped by the local date of its start.
    by_date = _minutes.count_minutes(
        tariff._zone,
        tariff._band_starts,
        origin=first,
        start=first,
        stop=first + minutes * _minutes.MINUTE,
    )
    # 5. The unlock fee, then each date rounded once and capped.
    first_date = _minutes.local_date(_minutes.local_day(tariff._zone, first))
    lines = [*_unlock_fee(tariff, first_date)]
    priced: dict[tuple[tuple[int, int], ...], tuple[charges.ChargeLine, ...]] = {}
    for day in sorted(by_date):
        counts = tuple(by_date[day].items())
        # Long rentals repeat the same day: price each distinct day once, then date it.
        template = priced.get(counts)
        if template is None:
            template = priced[counts] = _price_date(tariff, counts)
        local_date = _minutes.local_date(day)
        lines.extend(_dated(line, local_date) for line in template)
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
    tariff: Tariff, counts: tuple[tuple[int, int], ...]
) -> tuple[charges.ChargeLine, ...]:
    """Price one local date: exact sum, one rounding, cap, band shares that add up to it."""
    currency, bands = tariff.currency, tariff.bands
    weights = [_EXACT.multiply(bands[band].per_minute, minutes) for band, minutes in counts]
    uncapped = money.round_money(_sum(weights), currency)
    cap = None if tariff.daily_cap is None else money.round_money(tariff.daily_cap, currency)
    capped = cap is not None and uncapped > cap
    shares = money.allocate(uncapped, weights, currency)
    lines = [
        charges.ChargeLine(
            kind=MINUTES,
            description=f"Minutes, {bands[band].starts_at:%H:%M} band",
            quantity=Decimal(minutes),
            unit=MINUTE_UNIT,
            unit_price=bands[band].per_minute,
            amount=share,
            vat_rate=tariff.vat_rate,
            details={"band_starts_at": bands[band].starts_at.isoformat(), "capped": capped},
        )
        for (band, minutes), share in zip(counts, shares, strict=True)
    ]
    if capped:
        assert cap is not None
        reduction = _EXACT.subtract(cap, uncapped)
        lines.append(
            charges.ChargeLine(
                kind=DAILY_CAP,
                description="Daily cap",
                quantity=_ONE,
                unit="day",
                unit_price=reduction,
                amount=reduction,
                vat_rate=tariff.vat_rate,
                details={"capped": True},
            )
        )
    return tuple(lines)


def _dated(line: charges.ChargeLine, local_date: dt.date) -> charges.ChargeLine:
    return charges.ChargeLine(
        kind=line.kind,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        amount=line.amount,
        vat_rate=line.vat_rate,
        vat_exemption=line.vat_exemption,
        local_date=local_date,
        details=line.details,
    )


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
