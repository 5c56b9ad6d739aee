"""Properties of ``price``, checked against the minute-by-minute reference (tests/reference.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.charges import Charge
from billing.pricing import (
    DAILY_CAP,
    DISTANCE,
    MINUTES,
    PARKED_MINUTES,
    Band,
    Tariff,
    billable_minutes,
    price,
)
from tests.reference import Reference, brute_force_price, line_view

ZONES = [
    "Europe/Paris",
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "America/New_York",
    "UTC",
    "Pacific/Chatham",
    "America/St_Johns",
    "Africa/Casablanca",
    "Africa/Monrovia",
]
# Years with something odd in one of the zones: Monrovia 1972, Kathmandu 1986, Brazil
# 2000, Apia 2011, Sao Paulo 2018, Casablanca's Ramadan years, the edges of the range.
YEARS = [1970, 1972, 1986, 1996, 2000, 2011, 2013, 2018, 2026, 2037]
EXPONENTS = {"EUR": 2, "JPY": 0, "BHD": 3}
ONE_MINUTE = timedelta(minutes=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2037, 12, 31, tzinfo=UTC)


@cache
def offset_changes(zone_key: str, year: int) -> tuple[datetime, ...]:
    """Return the instants of ``year`` at which the zone's UTC offset changes."""
    zone = ZoneInfo(zone_key)

    def offset(seconds: int) -> timedelta | None:
        return (EARLIEST + timedelta(seconds=seconds)).astimezone(zone).utcoffset()

    first = int((datetime(year, 1, 1, tzinfo=UTC) - EARLIEST).total_seconds())
    last = int((datetime(year + 1, 1, 1, tzinfo=UTC) - EARLIEST).total_seconds())
    step = 12 * 3600
    found = []
    for low in range(first, last, step):
        high = low + step
        if offset(low) != offset(high):
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append(EARLIEST + timedelta(seconds=high))
    return tuple(found)


band_starts = st.one_of(
    st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60)),
    st.times(),
)
rates = st.decimals(min_value=0, max_value=2, places=4)


@st.composite
def tariffs(draw: st.DrawFn, zone: str | None = None) -> Tariff:
    starts = sorted(draw(st.sets(band_starts, min_size=1, max_size=4)))
    return Tariff(
        time_zone=zone or draw(st.sampled_from(ZONES)),
        currency=draw(st.sampled_from(sorted(EXPONENTS))),
        vat_rate=draw(st.sampled_from([Decimal(0), Decimal("0.055"), Decimal("0.2")])),
        bands=[Band(starts_at=s, per_minute=draw(rates)) for s in starts],
        unlock_fee=draw(st.decimals(min_value=0, max_value=5, places=3)),
        minimum_minutes=draw(st.integers(0, 90)),
        daily_cap=draw(st.none() | st.decimals(min_value=0, max_value=150, places=2)),
    )


instants = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None),
    max_value=LATEST.replace(tzinfo=None),
    timezones=st.just(UTC),
)


def up_to(limit: timedelta) -> st.SearchStrategy[timedelta]:
    return st.integers(0, limit // timedelta(microseconds=1)).map(
        lambda us: timedelta(microseconds=us)
    )


def days_and_time(max_days: int) -> st.SearchStrategy[timedelta]:
    return st.builds(
        lambda days, seconds, us: timedelta(days=days, seconds=seconds, microseconds=us),
        st.integers(0, max_days),
        st.integers(0, 86_399),
        st.integers(0, 999_999),
    )


# Mostly short rentals (where rounding and boundaries bite), sometimes up to 40 days.
durations = st.one_of(
    up_to(timedelta(minutes=3)),
    days_and_time(0),
    days_and_time(2),
    days_and_time(40),
)


@st.composite
def near_offset_changes(draw: st.DrawFn) -> tuple[str, datetime]:
    zone = draw(st.sampled_from(ZONES))
    year = draw(st.sampled_from(YEARS))
    anchors = offset_changes(zone, year) or (datetime(year, 1, 1, tzinfo=UTC),)
    shift = timedelta(
        seconds=draw(st.integers(-36 * 3600, 36 * 3600)),
        microseconds=draw(st.integers(0, 999_999)),
    )
    return zone, draw(st.sampled_from(anchors)) + shift


other_offsets: st.SearchStrategy[tzinfo] = st.one_of(
    st.integers(-14 * 3600, 14 * 3600).map(lambda s: timezone(timedelta(seconds=s))),
    st.sampled_from(ZONES).map(ZoneInfo),
)


def assert_matches_reference(charge: Charge, expected: Reference) -> None:
    assert billable_minutes(charge) == expected.minutes
    assert charge.total == expected.total
    counts: dict[date, dict[time, int]] = {}
    parked: dict[date, int] = {}
    amounts: dict[date, Decimal] = {}
    capped: set[date] = set()
    distance = Decimal(0)
    for kind, day, band, minutes, _, amount, is_capped in map(line_view, charge.lines):
        if kind == MINUTES:
            assert band is not None
            bands = counts.setdefault(day, {})
            assert band not in bands, "one line per date and band"
            bands[band] = minutes
        if kind == PARKED_MINUTES:
            assert day not in parked, "one parked line per date"
            parked[day] = minutes
        if kind in (MINUTES, PARKED_MINUTES, DAILY_CAP):
            amounts[day] = amounts.get(day, Decimal(0)) + amount
        if kind == DISTANCE:
            distance += amount
        if is_capped:
            capped.add(day)
    # Dates ascending, bands in the order their minutes first occur in the date.
    assert [(d, list(b.items())) for d, b in counts.items()] == [
        (d, list(expected.counts[d].items())) for d in sorted(expected.counts)
    ]
    assert parked == expected.parked
    assert amounts == expected.per_date
    assert capped == expected.capped
    assert {line.local_date for line in charge.lines if line.kind == DAILY_CAP} == expected.capped
    assert distance == expected.distance


def assert_consistent(charge: Charge, tariff: Tariff) -> None:
    exponent = -EXPONENTS[tariff.currency]
    assert charge.total >= 0
    assert charge.total.as_tuple().exponent == exponent
    assert sum((line.amount for line in charge.lines), Decimal(0)) == charge.total
    assert all(line.vat_rate == tariff.vat_rate for line in charge.lines)
    assert all(line.amount.as_tuple().exponent == exponent for line in charge.lines)
    assert all(line.amount >= 0 for line in charge.lines if line.kind != DAILY_CAP)
    assert sum(1 for line in charge.lines if line.kind == DISTANCE) <= 1
    assert all(
        line.amount < 0 and line.details["capped"]
        for line in charge.lines
        if line.kind == DAILY_CAP
    )


@settings(max_examples=500)
@given(tariff=tariffs(), start=instants, duration=durations)
def test_price_matches_the_minute_by_minute_reference(
    tariff: Tariff, start: datetime, duration: timedelta
) -> None:
    charge = price(tariff, start, start + duration)

    assert_matches_reference(charge, brute_force_price(tariff, start, start + duration))
    assert_consistent(charge, tariff)


@settings(max_examples=1000)
@given(data=st.data(), place=near_offset_changes(), duration=days_and_time(2))
def test_price_matches_the_reference_around_real_offset_changes(
    data: st.DataObject, place: tuple[str, datetime], duration: timedelta
) -> None:
    zone, start = place
    tariff = data.draw(tariffs(zone=zone))

    charge = price(tariff, start, start + duration)

    assert_matches_reference(charge, brute_force_price(tariff, start, start + duration))
    assert_consistent(charge, tariff)


@settings(max_examples=500)
@given(tariff=tariffs(), start=instants, duration=durations)
def test_lines_sum_exactly_to_a_total_that_is_never_negative(
    tariff: Tariff, start: datetime, duration: timedelta
) -> None:
    assert_consistent(price(tariff, start, start + duration), tariff)


@settings(max_examples=300)
@given(tariff=tariffs(), start=instants, durations=st.lists(durations, min_size=2, max_size=2))
def test_total_never_decreases_as_the_rental_grows(
    tariff: Tariff, start: datetime, durations: list[timedelta]
) -> None:
    shorter, longer = sorted(durations)

    assert price(tariff, start, start + shorter).total <= price(tariff, start, start + longer).total


@settings(max_examples=300)
@given(
    tariff=tariffs(),
    start=instants,
    duration=durations,
    start_zone=other_offsets,
    end_zone=other_offsets,
)
def test_price_depends_on_the_instants_not_on_the_offsets_they_are_written_with(
    tariff: Tariff, start: datetime, duration: timedelta, start_zone: tzinfo, end_zone: tzinfo
) -> None:
    end = start + duration

    moved = price(tariff, start.astimezone(start_zone), end.astimezone(end_zone))

    assert moved == price(tariff, start, end)
    assert moved.started_at.utcoffset() == timedelta(0)
