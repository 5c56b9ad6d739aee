"""Price a period under a tariff: the normative rule of API.md, in pure Python.

No Django here, ever: aware datetimes, ``Decimal`` and ``ZoneInfo`` in, frozen values
out. The rule in one breath: every started minute counts (at least
``minimum_minutes``); minute ``k`` starts at ``started_at + k minutes`` in absolute
time and is billed at the band in force at its local wall-clock time; minutes are
summed per local calendar date, each date rounded half-up then capped; the unlock fee
comes on top.

Minutes are never walked one by one. The period is cut into segments over which the
zone's UTC offset, the local date and the band are all constant, and the minutes
starting in each segment are counted with integer arithmetic on microseconds. The cost
grows with local dates times bands, not with the duration.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from itertools import pairwise
from typing import Final, Literal
from zoneinfo import ZoneInfo

from billing import money
from core import localtime
from core.errors import DomainError

LineKind = Literal["UNLOCK_FEE", "MINUTES", "DAILY_CAP"]
UNLOCK_FEE: Final = "UNLOCK_FEE"
MINUTES: Final = "MINUTES"
DAILY_CAP: Final = "DAILY_CAP"

_SECOND: Final = 1_000_000  # every instant below is an integer of microseconds
_MINUTE: Final = 60 * _SECOND
_DAY: Final = 86_400 * _SECOND
# Sums of minutes x rate must be exact before the one rounding, whatever the caller's
# decimal context: this one never rounds.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_ONE_MICROSECOND: Final = dt.timedelta(microseconds=1)
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL: Final = _EPOCH.date().toordinal()
_fromtimestamp: Final = dt.datetime.fromtimestamp
# How far ahead one probe may look for an offset change. The probe only sees a change
# if the offset differs at its end, so two changes inside one probe (there and back)
# would hide. In tzdata 2025b the closest two offset changes of any zone between 1970
# and 2037 are 167 hours apart (Brazil, October 2000); 6 hours leaves a wide margin.
_PROBE: Final = 6 * 3_600 * _SECOND


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
    values: prices use them rounded with ``money.round_money``.
    """

    time_zone: str
    currency: str
    bands: Sequence[Band]
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
        object.__setattr__(self, "_band_starts", tuple(_time_micros(b.starts_at) for b in bands))
        _check_amount(self.unlock_fee, "unlock_fee")
        if self.daily_cap is not None:
            _check_amount(self.daily_cap, "daily_cap")
        minimum = self.minimum_minutes
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
            raise InvalidTariff(
                f"minimum_minutes must be an int >= 0, got {minimum!r}.",
                field="minimum_minutes",
            )


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One line of a charge; the lines of a charge sum exactly to its total.

    ``UNLOCK_FEE`` and ``DAILY_CAP`` lines have ``minutes=0`` and no band or rate; a
    ``DAILY_CAP`` line carries a negative amount. ``capped`` is true on every line of a
    date whose cap applied.
    """

    kind: LineKind
    date: dt.date
    band_starts_at: dt.time | None
    minutes: int
    rate: Decimal | None
    amount: Decimal
    capped: bool


@dataclass(frozen=True, slots=True)
class Charge:
    """The price of a period: billable minutes, total and the lines that make it up."""

    currency: str
    time_zone: str
    started_at: dt.datetime
    ended_at: dt.datetime
    minutes: int
    total: Decimal
    lines: tuple[ChargeLine, ...]


def price(tariff: Tariff, started_at: dt.datetime, ended_at: dt.datetime) -> Charge:
    """Price the period from ``started_at`` to ``ended_at`` under ``tariff``.

    Both instants must be aware; their offsets do not matter, only the instants do.
    The charge's ``started_at``/``ended_at`` are the same instants in UTC.

    Raises:
        TypeError: an instant is not a ``datetime``.
        ValueError: an instant is naive.
        EndsBeforeStart: ``ended_at`` is before ``started_at``.
    """
    start = _to_utc(started_at, "started_at")
    end = _to_utc(ended_at, "ended_at")
    if end < start:
        raise EndsBeforeStart(
            f"ended_at ({end.isoformat()}) is before started_at ({start.isoformat()}).",
            started_at=start.isoformat(),
            ended_at=end.isoformat(),
        )
    first = (start - _EPOCH) // _ONE_MICROSECOND
    elapsed = (end - _EPOCH) // _ONE_MICROSECOND - first
    minutes = max(-(-elapsed // _MINUTE), tariff.minimum_minutes)
    first_offset = _offset(tariff._zone, first)
    by_day = _minutes_by_day(tariff, first, first_offset, first + minutes * _MINUTE)
    start_day = (first + first_offset) // _DAY
    total, lines = _lines(tariff, start_day, by_day)
    return Charge(
        currency=tariff.currency,
        time_zone=tariff.time_zone,
        started_at=start,
        ended_at=end,
        minutes=minutes,
        total=total,
        lines=lines,
    )


def _minutes_by_day(
    tariff: Tariff, first: int, offset: int, stop: int
) -> dict[int, dict[int, int]]:
    """Count the minutes starting in ``[first, stop)`` per local day and band index.

    Days are counted from 1970-01-01 on the local calendar. Bands appear in each day's
    dict in the order their minutes first occur there.
    """
    zone, starts = tariff._zone, tariff._band_starts
    last_band = len(starts) - 1
    by_day: dict[int, dict[int, int]] = {}
    full_days: dict[int, tuple[tuple[int, int], ...]] = {}
    t, counted = first, 0  # counted = minutes starting before t = ceil((t - first) / minute)
    while t < stop:
        day, time_of_day = divmod(t + offset, _DAY)
        if time_of_day == 0 and t + _DAY <= stop and _steady_day(zone, t, offset):
            # A whole 24-hour local day: its counts depend only on where minutes start
            # relative to its midnight, so compute them once per phase.
            phase = (t - first) % _MINUTE
            counts = full_days.get(phase)
            if counts is None:
                counts = full_days[phase] = _full_day_counts(starts, phase)
            day_bands = by_day.setdefault(day, {})
            for band, minutes in counts:
                day_bands[band] = day_bands.get(band, 0) + minutes
            t += _DAY
            counted += _DAY // _MINUTE
            continue
        following = bisect_right(starts, time_of_day)
        next_wall = day * _DAY + (starts[following] if following <= last_band else _DAY)
        # The band and date hold until the next band start or midnight, read with this
        # offset; the offset itself holds until the next probe shows otherwise.
        seg_end = min(next_wall - offset, t + _PROBE, stop)
        next_offset = _offset(zone, seg_end)
        if next_offset != offset:
            seg_end = _transition(zone, t, seg_end, offset)
            next_offset = _offset(zone, seg_end)
        upto = -(-(seg_end - first) // _MINUTE)
        if upto > counted:
            band = following - 1 if following else last_band
            day_bands = by_day.setdefault(day, {})
            day_bands[band] = day_bands.get(band, 0) + upto - counted
            counted = upto
        t, offset = seg_end, next_offset
    return by_day


def _steady_day(zone: ZoneInfo, midnight: int, offset: int) -> bool:
    """Tell whether the offset stays ``offset`` for the 24 hours from ``midnight``."""
    return all(
        _offset(zone, midnight + probe) == offset for probe in range(_PROBE, _DAY + 1, _PROBE)
    )


def _full_day_counts(starts: tuple[int, ...], phase: int) -> tuple[tuple[int, int], ...]:
    """Count a steady day's minutes per band, a minute starting ``phase`` before midnight.

    Bands come in the order their minutes first occur, as in ``_minutes_by_day``.
    """
    last_band = len(starts) - 1
    pieces = [(0, starts[0], last_band)]
    pieces += [(start, end, band) for band, (start, end) in enumerate(pairwise(starts))]
    pieces.append((starts[-1], _DAY, last_band))
    counts: dict[int, int] = {}
    for start, end, band in pieces:
        minutes = -(-(phase + end) // _MINUTE) + (phase + start) // -_MINUTE
        if minutes:
            counts[band] = counts.get(band, 0) + minutes
    return tuple(counts.items())


def _lines(
    tariff: Tariff, start_day: int, by_day: dict[int, dict[int, int]]
) -> tuple[Decimal, tuple[ChargeLine, ...]]:
    """Turn minute counts into the total and its lines (rounded per date, capped)."""
    currency, bands = tariff.currency, tariff.bands
    fee = money.round_money(tariff.unlock_fee, currency)
    cap = None if tariff.daily_cap is None else money.round_money(tariff.daily_cap, currency)
    total = fee
    lines: list[ChargeLine] = []
    if fee > 0:
        lines.append(ChargeLine(UNLOCK_FEE, _date(start_day), None, 0, None, fee, False))
    priced: dict[tuple[tuple[int, int], ...], _PricedDay] = {}  # long rentals repeat days
    for day in sorted(by_day):
        counts = tuple(by_day[day].items())
        known = priced.get(counts)
        if known is None:
            known = priced[counts] = _price_day(counts, bands, currency, cap)
        amount, reduction, shares = known
        date, capped = _date(day), reduction is not None
        for band, minutes, share in shares:
            lines.append(
                ChargeLine(MINUTES, date, band.starts_at, minutes, band.per_minute, share, capped)
            )
        if reduction is not None:
            lines.append(ChargeLine(DAILY_CAP, date, None, 0, None, reduction, True))
        total = _EXACT.add(total, amount)
    return total, tuple(lines)


# A date's amount after the cap, the cap's reduction if any, and each band's share.
_PricedDay = tuple[Decimal, Decimal | None, tuple[tuple[Band, int, Decimal], ...]]


def _price_day(
    counts: tuple[tuple[int, int], ...],
    bands: Sequence[Band],
    currency: str,
    cap: Decimal | None,
) -> _PricedDay:
    """Price one local date: exact sum, one rounding, cap, shares that add up to it."""
    weights = [_EXACT.multiply(bands[band].per_minute, minutes) for band, minutes in counts]
    uncapped = money.round_money(_sum(weights), currency)
    shares = money.allocate(uncapped, weights, currency)
    parts = tuple(
        (bands[band], minutes, share) for (band, minutes), share in zip(counts, shares, strict=True)
    )
    if cap is not None and uncapped > cap:
        return cap, _EXACT.subtract(cap, uncapped), parts
    return uncapped, None, parts


def _offset(zone: ZoneInfo, instant: int) -> int:
    """Return the zone's UTC offset in microseconds at ``instant`` (microseconds)."""
    # Offsets change on whole seconds, so the second holding the instant decides.
    utcoffset = _fromtimestamp(instant // _SECOND, zone).utcoffset()
    assert utcoffset is not None  # a ZoneInfo always knows its offset
    return utcoffset // _ONE_MICROSECOND


def _transition(zone: ZoneInfo, after: int, until: int, offset: int) -> int:
    """Return the first instant in ``(after, until]`` whose offset is not ``offset``.

    Transitions fall on whole seconds, so bisect over seconds.
    """
    low, high = after // _SECOND, -(-until // _SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle * _SECOND) == offset:
            low = middle
        else:
            high = middle
    return high * _SECOND


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


def _date(day: int) -> dt.date:
    return dt.date.fromordinal(_EPOCH_ORDINAL + day)


def _time_micros(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * _SECOND + value.microsecond


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
