"""Parked minutes and distance: ``price`` equals the minute-by-minute reference, and behaves.

Intervals are drawn anywhere in the rental, and right at real offset changes (a pause or a
resume inside a repeated or a skipped hour), in the 12 zones of the pricing properties, for
rentals up to 40 days.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from billing.pricing import Parked, Tariff, price
from tests.reference import brute_force_price
from tests.unit.test_pricing_properties import (
    assert_consistent,
    assert_matches_reference,
    days_and_time,
    instants,
    near_offset_changes,
    rates,
    tariffs,
    up_to,
)

distances = st.one_of(
    st.just(Decimal(0)),
    st.integers(0, 20_000).map(lambda tenths: Decimal(tenths).scaleb(-1)),
)
rental_durations = st.one_of(days_and_time(0), days_and_time(2), days_and_time(40))


@st.composite
def parked_tariffs(draw: st.DrawFn, zone: str | None = None) -> Tariff:
    tariff = draw(tariffs(zone=zone))
    return dataclasses.replace(
        tariff,
        park_per_minute=draw(st.none() | rates),
        per_km=draw(st.decimals(min_value=0, max_value=1, places=3)),
        included_km=draw(st.integers(0, 300)),
    )


@st.composite
def intervals_in(
    draw: st.DrawFn, start: datetime, end: datetime, anchor: datetime | None = None
) -> list[Parked]:
    """Sorted, disjoint parked intervals inside ``[start, end]``, some around ``anchor``."""
    span = end - start
    cuts = draw(st.lists(up_to(span), max_size=10))
    if anchor is not None and start <= anchor <= end:
        # A pause or a resume right at (or seconds around) the offset change.
        for shift in draw(st.lists(st.integers(-3 * 3600, 3 * 3600), max_size=3)):
            moment = anchor + timedelta(seconds=shift) - start
            if timedelta(0) <= moment <= span:
                cuts.append(moment)
    cuts = sorted(cuts)
    if len(cuts) % 2:
        cuts.pop()
    return [
        Parked(paused_at=start + cuts[i], resumed_at=start + cuts[i + 1])
        for i in range(0, len(cuts), 2)
    ]


@settings(max_examples=300)
@given(data=st.data(), tariff=parked_tariffs(), start=instants, duration=rental_durations)
def test_price_with_parked_intervals_and_distance_matches_the_reference(
    data: st.DataObject, tariff: Tariff, start: datetime, duration: timedelta
) -> None:
    end = start + duration
    parked = data.draw(intervals_in(start, end))
    distance = data.draw(distances)

    charge = price(tariff, start, end, parked=parked, distance_km=distance)

    assert_matches_reference(charge, brute_force_price(tariff, start, end, parked, distance))
    assert_consistent(charge, tariff)


@settings(max_examples=400)
@given(data=st.data(), place=near_offset_changes(), duration=days_and_time(2))
def test_parked_intervals_that_pause_or_resume_inside_a_clock_change_match_the_reference(
    data: st.DataObject, place: tuple[str, datetime], duration: timedelta
) -> None:
    zone, anchor = place
    tariff = data.draw(parked_tariffs(zone=zone))
    start = anchor - data.draw(up_to(min(duration, timedelta(hours=30))))
    end = start + duration
    parked = data.draw(intervals_in(start, end, anchor))

    charge = price(tariff, start, end, parked=parked)

    assert_matches_reference(charge, brute_force_price(tariff, start, end, parked))
    assert_consistent(charge, tariff)


@settings(max_examples=200)
@given(
    data=st.data(),
    tariff=parked_tariffs(),
    start=instants,
    duration=rental_durations,
    later=days_and_time(3),
)
def test_the_total_never_decreases_when_a_rental_ends_later_with_the_same_events(
    data: st.DataObject, tariff: Tariff, start: datetime, duration: timedelta, later: timedelta
) -> None:
    end = start + duration
    parked = data.draw(intervals_in(start, end))
    distance = data.draw(distances)

    earlier_total = price(tariff, start, end, parked=parked, distance_km=distance).total
    later_total = price(tariff, start, end + later, parked=parked, distance_km=distance).total

    assert earlier_total <= later_total


@settings(max_examples=200)
@given(data=st.data(), tariff=tariffs(), start=instants, duration=rental_durations)
def test_parking_never_costs_more_than_driving_when_its_rate_is_no_higher_than_any_band(
    data: st.DataObject, tariff: Tariff, start: datetime, duration: timedelta
) -> None:
    cheapest = min(band.per_minute for band in tariff.bands)
    park_rate = data.draw(st.decimals(min_value=0, max_value=cheapest, places=4))
    assume(park_rate <= cheapest)
    parking = dataclasses.replace(tariff, park_per_minute=park_rate)
    end = start + duration
    parked = data.draw(intervals_in(start, end))

    with_parking = price(parking, start, end, parked=parked).total
    all_driving = price(parking, start, end).total

    assert with_parking <= all_driving


@settings(max_examples=100)
@given(data=st.data(), tariff=tariffs(), start=instants)
def test_a_tariff_without_the_new_fields_prices_parked_rentals_exactly_as_before(
    data: st.DataObject, tariff: Tariff, start: datetime
) -> None:
    end = start + data.draw(rental_durations)
    parked = data.draw(intervals_in(start, end))

    assert price(tariff, start, end, parked=parked) == price(tariff, start, end)
