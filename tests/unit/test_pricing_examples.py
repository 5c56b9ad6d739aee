"""Hand-checked prices: every expected total is worked out in the comments."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.charges import ChargeLine
from billing.pricing import (
    DAILY_CAP,
    DISTANCE,
    MINUTES,
    PARKED_MINUTES,
    UNLOCK_FEE,
    Band,
    EndsBeforeStart,
    InvalidDistance,
    InvalidParkedInterval,
    InvalidTariff,
    Parked,
    Tariff,
    billable_minutes,
    price,
)
from core.errors import DomainError
from tests.reference import line_view

PARIS = ZoneInfo("Europe/Paris")
CET, CEST = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))
DAY_RATE, NIGHT_RATE = Decimal("0.35"), Decimal("0.20")
STANDARD = Tariff(
    time_zone="Europe/Paris",
    currency="EUR",
    vat_rate=Decimal("0.20"),
    bands=[Band(time(7, 0), DAY_RATE), Band(time(22, 0), NIGHT_RATE)],
    unlock_fee=Decimal("1.00"),
    minimum_minutes=0,
    daily_cap=Decimal("45.00"),
)
UNCAPPED = dataclasses.replace(STANDARD, daily_cap=None)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def standard_in(zone: str, currency: str = "EUR", **changes: object) -> Tariff:
    return dataclasses.replace(STANDARD, time_zone=zone, currency=currency, **changes)


def minutes_by_date_and_band(lines: tuple[ChargeLine, ...]) -> list[tuple[str, str, int]]:
    return [
        (day.isoformat(), band.isoformat("minutes"), minutes)
        for kind, day, band, minutes, *_ in map(line_view, lines)
        if kind == MINUTES and band is not None
    ]


@pytest.mark.parametrize(
    ("tariff", "started_at", "ended_at", "minutes", "total"),
    [
        # 02:50 CEST -> 02:10 CET is 20 real minutes, all at night: 20 x 0.20 + 1.00.
        pytest.param(
            STANDARD, "2026-10-25T02:50+02:00", "2026-10-25T02:10+01:00", 20, "5.00",
            id="paris-fall-back-2026-10-25",
        ),
        # 01:50 CET -> 03:10 CEST is 20 real minutes, not 80: 20 x 0.20 + 1.00.
        pytest.param(
            STANDARD, "2026-03-29T01:50+01:00", "2026-03-29T03:10+02:00", 20, "5.00",
            id="paris-spring-forward-2026-03-29",
        ),
        # The 25-hour local date: night 00:00-07:00 lasts 8 hours (480 min) + 22:00-24:00
        # (120) = 600 x 0.20 = 120.00; day 07:00-22:00 = 900 x 0.35 = 315.00; + 1.00.
        pytest.param(
            UNCAPPED, "2026-10-25T00:00+02:00", "2026-10-26T00:00+01:00", 1500, "436.00",
            id="paris-fall-back-2026-10-25-whole-date",
        ),
        # The 23-hour local date: night 360 + 120 = 480 x 0.20 = 96.00; day 315.00; + 1.00.
        pytest.param(
            UNCAPPED, "2026-03-29T00:00+01:00", "2026-03-30T00:00+02:00", 1380, "412.00",
            id="paris-spring-forward-2026-03-29-whole-date",
        ),
        # Both dates capped at 45.00: 1.00 + 45.00 + 45.00.
        pytest.param(
            STANDARD, "2026-06-01T12:00+02:00", "2026-06-02T12:00+02:00", 1440, "91.00",
            id="paris-two-capped-dates",
        ),
        # Kathmandu is +05:45: 07:00 local is 01:15Z. 10 night minutes x 2.00 = 20.00,
        # 10 day minutes x 3.50 = 35.00, unlock 10.00.
        pytest.param(
            standard_in(
                "Asia/Kathmandu",
                "NPR",
                bands=[Band(time(7), Decimal("3.50")), Band(time(22), Decimal("2.00"))],
                unlock_fee=Decimal("10.00"),
                daily_cap=None,
            ),
            "2026-05-01T01:05Z", "2026-05-01T01:25Z", 20, "65.00",
            id="kathmandu-07:00-is-01:15Z",
        ),
        # Dublin's winter time is GMT (a negative DST in tzdata): 07:00 local is 07:00Z.
        # 10 x 0.20 + 10 x 0.35 + 1.00 = 6.50.
        pytest.param(
            standard_in("Europe/Dublin"), "2026-01-15T06:50Z", "2026-01-15T07:10Z", 20, "6.50",
            id="dublin-winter-07:00-is-07:00Z",
        ),
        # Dublin summer (IST, +01:00): 07:00 local is 06:00Z. Same split, same 6.50.
        pytest.param(
            standard_in("Europe/Dublin"), "2026-07-01T05:50Z", "2026-07-01T06:10Z", 20, "6.50",
            id="dublin-summer-07:00-is-06:00Z",
        ),
        # Dublin fall back 02:00 IST -> 01:00 GMT: 20 night minutes x 0.20 + 1.00.
        pytest.param(
            standard_in("Europe/Dublin"),
            "2026-10-25T01:50+01:00", "2026-10-25T01:10+00:00", 20, "5.00",
            id="dublin-fall-back-2026-10-25",
        ),
        # Monrovia before 1972 was -00:44:30: 07:00 local is 07:44:30Z. From 07:44:00Z the
        # first minute starts at 06:59:30 (night), the second at 07:00:30 (day):
        # 0.20 + 0.35 = 0.55, + 1.00.
        pytest.param(
            standard_in("Africa/Monrovia", "USD"),
            "1970-06-01T07:44Z", "1970-06-01T07:46Z", 2, "1.55",
            id="monrovia-1970-offset-with-seconds",
        ),
    ],
)  # fmt: skip
def test_price_matches_the_hand_computed_total(
    tariff: Tariff, started_at: str, ended_at: str, minutes: int, total: str
) -> None:
    charge = price(tariff, at(started_at), at(ended_at))

    assert (billable_minutes(charge), charge.total) == (minutes, Decimal(total))


def test_fall_back_night_bills_the_repeated_hour_twice_paris_fall_back_2026_10_25() -> None:
    charge = price(UNCAPPED, at("2026-10-25T00:00+02:00"), at("2026-10-26T00:00+01:00"))

    # The night band comes first (00:00-07:00, with 02:00-03:00 twice), then the day band;
    # the night band after 22:00 joins the same line.
    assert minutes_by_date_and_band(charge.lines) == [
        ("2026-10-25", "22:00", 600),
        ("2026-10-25", "07:00", 900),
    ]


def test_spring_forward_date_has_1380_minutes_paris_spring_forward_2026_03_29() -> None:
    charge = price(UNCAPPED, at("2026-03-29T00:00+01:00"), at("2026-03-30T00:00+02:00"))

    assert minutes_by_date_and_band(charge.lines) == [
        ("2026-03-29", "22:00", 480),
        ("2026-03-29", "07:00", 900),
    ]


@pytest.mark.parametrize(
    ("started_at", "ended_at"),
    [
        pytest.param(
            datetime(2026, 10, 25, 2, 50, tzinfo=PARIS),
            datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=PARIS),
            id="paris-fall-back-2026-10-25",
        ),
        pytest.param(
            datetime(2026, 3, 29, 1, 50, tzinfo=PARIS),
            datetime(2026, 3, 29, 3, 10, tzinfo=PARIS),
            id="paris-spring-forward-2026-03-29",
        ),
    ],
)
def test_same_zone_datetimes_are_subtracted_as_instants_not_wall_clocks(
    started_at: datetime, ended_at: datetime
) -> None:
    # Python would say -40 and +80 minutes here (same-zone subtraction is wall-clock
    # subtraction); the instants are 20 apart.
    assert billable_minutes(price(STANDARD, started_at, ended_at)) == 20


def test_paris_fall_back_2026_10_25_lines_are_the_fee_then_one_night_line() -> None:
    charge = price(STANDARD, at("2026-10-25T02:50+02:00"), at("2026-10-25T02:10+01:00"))

    assert [line_view(line) for line in charge.lines] == [
        (UNLOCK_FEE, date(2026, 10, 25), None, 0, None, Decimal("1.00"), False),
        (MINUTES, date(2026, 10, 25), time(22), 20, NIGHT_RATE, Decimal("4.00"), False),
    ]
    assert charge.started_at == datetime(2026, 10, 25, 0, 50, tzinfo=UTC)
    assert charge.ended_at == datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert (charge.currency, charge.time_zone) == ("EUR", "Europe/Paris")


def test_lord_howe_half_hour_fall_back_bills_the_repeated_half_hour_at_its_wall_band() -> None:
    # 2026-04-05 02:00 +11:00 becomes 01:30 +10:30. From 01:45 (+11): 01:45-01:59 (15 min,
    # band 01:40), then 01:30-01:39 (10 min, band 00:00), then 01:40-01:44 (5 min, 01:40).
    tariff = Tariff(
        time_zone="Australia/Lord_Howe",
        currency="AUD",
        vat_rate=Decimal("0.20"),
        bands=[Band(time(0), Decimal("0.10")), Band(time(1, 40), Decimal("0.50"))],
    )

    charge = price(tariff, at("2026-04-05T01:45+11:00"), at("2026-04-05T01:45+10:30"))

    assert minutes_by_date_and_band(charge.lines) == [
        ("2026-04-05", "01:40", 20),
        ("2026-04-05", "00:00", 10),
    ]
    # 20 x 0.50 + 10 x 0.10, no unlock fee.
    assert charge.total == Decimal("11.00")


def test_lord_howe_half_hour_spring_forward_skips_half_an_hour() -> None:
    # 2026-10-04 02:00 +10:30 becomes 02:30 +11:00: 01:50 -> 02:40 wall is 20 minutes.
    charge = price(
        standard_in("Australia/Lord_Howe", "AUD"),
        datetime(2026, 10, 4, 1, 50, tzinfo=ZoneInfo("Australia/Lord_Howe")),
        datetime(2026, 10, 4, 2, 40, tzinfo=ZoneInfo("Australia/Lord_Howe")),
    )

    assert billable_minutes(charge) == 20


def test_apia_bills_nothing_on_2011_12_30_which_never_happened() -> None:
    # 23:00 -10:00 on the 29th is 09:00Z; at 10:00Z Samoa jumped to 2011-12-31 00:00 +14:00.
    tariff = Tariff(
        time_zone="Pacific/Apia",
        currency="WST",
        vat_rate=Decimal("0.15"),
        bands=[Band(time(0), Decimal("0.50"))],
    )
    start = at("2011-12-29T23:00-10:00")

    charge = price(tariff, start, start + timedelta(hours=2))

    assert minutes_by_date_and_band(charge.lines) == [
        ("2011-12-29", "00:00", 60),
        ("2011-12-31", "00:00", 60),
    ]
    assert charge.total == Decimal("60.00")


def test_sao_paulo_date_without_a_midnight_starts_at_01_00() -> None:
    # 2018-11-04 00:00 -03:00 became 01:00 -02:00. 23:30-23:59 on the 3rd is band 23:00
    # (30 x 0.40 = 12.00); then 01:00-01:29 on the 4th is band 01:00 (30 x 1.00 = 30.00).
    tariff = Tariff(
        time_zone="America/Sao_Paulo",
        currency="BRL",
        vat_rate=Decimal("0.20"),
        bands=[
            Band(time(0), Decimal("0.40")),
            Band(time(1), Decimal("1.00")),
            Band(time(23), Decimal("0.40")),
        ],
    )
    start = at("2018-11-03T23:30-03:00")

    charge = price(tariff, start, start + timedelta(hours=1))

    assert minutes_by_date_and_band(charge.lines) == [
        ("2018-11-03", "23:00", 30),
        ("2018-11-04", "01:00", 30),
    ]
    assert charge.total == Decimal("42.00")


@pytest.mark.parametrize(
    ("elapsed", "minutes"),
    [
        (timedelta(0), 0),
        (timedelta(microseconds=1), 1),
        (timedelta(seconds=29), 1),
        (timedelta(seconds=30), 1),
        (timedelta(seconds=59), 1),
        (timedelta(seconds=60), 1),
        (timedelta(seconds=60, microseconds=1), 2),
        (timedelta(seconds=61), 2),
    ],
    ids=lambda value: str(value),
)
def test_every_started_minute_counts(elapsed: timedelta, minutes: int) -> None:
    start = at("2026-06-01T12:00:00.250000+00:00")

    assert billable_minutes(price(STANDARD, start, start + elapsed)) == minutes


@pytest.mark.parametrize(
    ("started_at", "elapsed", "minutes", "total"),
    [
        # 5 minutes billed as 30 day minutes: 30 x 0.35 + 1.00 = 11.50.
        ("2026-06-01T14:00+02:00", timedelta(minutes=5), 30, "11.50"),
        # Nothing elapsed still pays the minimum.
        ("2026-06-01T14:00+02:00", timedelta(0), 30, "11.50"),
        # The minimum runs past 22:00: 10 x 0.35 + 20 x 0.20 + 1.00 = 8.50.
        ("2026-06-01T21:50+02:00", timedelta(minutes=1), 30, "8.50"),
    ],
)
def test_minimum_minutes_are_billed_from_the_start_as_real_minutes(
    started_at: str, elapsed: timedelta, minutes: int, total: str
) -> None:
    tariff = dataclasses.replace(STANDARD, minimum_minutes=30)
    start = at(started_at)

    charge = price(tariff, start, start + elapsed)

    assert (billable_minutes(charge), charge.total) == (minutes, Decimal(total))


def test_a_capped_date_carries_a_negative_cap_line() -> None:
    # 08:00-12:00 is 240 day minutes: 84.00, capped at 45.00 by a -39.00 line.
    charge = price(STANDARD, at("2026-06-01T08:00+02:00"), at("2026-06-01T12:00+02:00"))

    june_first = date(2026, 6, 1)
    assert [line_view(line) for line in charge.lines] == [
        (UNLOCK_FEE, june_first, None, 0, None, Decimal("1.00"), False),
        (MINUTES, june_first, time(7), 240, DAY_RATE, Decimal("84.00"), True),
        (DAILY_CAP, june_first, None, 0, None, Decimal("-39.00"), True),
    ]
    assert charge.total == Decimal("46.00")


def test_a_date_exactly_at_the_cap_is_not_capped() -> None:
    tariff = dataclasses.replace(STANDARD, daily_cap=Decimal("3.50"))

    charge = price(tariff, at("2026-06-01T08:00+02:00"), at("2026-06-01T08:10+02:00"))

    assert [line.kind for line in charge.lines] == [UNLOCK_FEE, MINUTES]
    assert not any(line.details.get("capped") for line in charge.lines)


def test_zero_decimal_currency_rounds_half_up_to_whole_yen() -> None:
    tariff = Tariff(
        time_zone="Asia/Tokyo",
        currency="JPY",
        vat_rate=Decimal("0.20"),
        bands=[Band(time(0), Decimal("12.5"))],
        unlock_fee=Decimal("100"),
    )
    start = at("2026-06-01T12:00+09:00")

    charge = price(tariff, start, start + timedelta(minutes=3))

    # 3 x 12.5 = 37.5, half-up to 38; + 100.
    assert charge.total == Decimal("138")
    assert [line.amount for line in charge.lines] == [Decimal("100"), Decimal("38")]


def test_half_a_cent_rounds_up() -> None:
    tariff = Tariff(
        time_zone="UTC",
        currency="EUR",
        vat_rate=Decimal("0.20"),
        bands=[Band(time(0), Decimal("0.125"))],
    )
    start = at("2026-06-01T12:00Z")

    charge = price(tariff, start, start + timedelta(minutes=1))

    # 0.125 -> 0.13; no unlock fee, so no unlock line.
    assert charge.total == Decimal("0.13")
    assert [line.kind for line in charge.lines] == [MINUTES]


def test_lines_of_a_date_share_its_rounded_amount_instead_of_rounding_each() -> None:
    # Two bands at 0.125: one minute in each is 0.25 for the date. Rounding each line
    # would give 0.13 + 0.13 = 0.26; the date's 0.25 is split 0.13 + 0.12 (tie: first).
    tariff = Tariff(
        time_zone="UTC",
        currency="EUR",
        vat_rate=Decimal("0.20"),
        bands=[Band(time(0), Decimal("0.125")), Band(time(12), Decimal("0.125"))],
    )

    charge = price(tariff, at("2026-06-01T11:59Z"), at("2026-06-01T12:01Z"))

    assert [line.amount for line in charge.lines] == [Decimal("0.13"), Decimal("0.12")]
    assert charge.total == Decimal("0.25")


def test_stored_fee_and_cap_are_rounded_with_the_money_rule() -> None:
    tariff = dataclasses.replace(STANDARD, unlock_fee=Decimal("0.995"), daily_cap=Decimal("0.505"))

    charge = price(tariff, at("2026-06-01T08:00+02:00"), at("2026-06-01T08:10+02:00"))

    # Fee 0.995 -> 1.00; cap 0.505 -> 0.51 (3.50 of minutes capped).
    assert charge.total == Decimal("1.51")


def test_a_rental_that_ends_when_it_starts_costs_the_unlock_fee() -> None:
    start = at("2026-06-01T12:00Z")

    charge = price(STANDARD, start, start)

    assert (billable_minutes(charge), charge.total) == (0, Decimal("1.00"))
    assert [line.kind for line in charge.lines] == [UNLOCK_FEE]


def test_a_free_rental_has_no_lines_and_a_zero_total_with_the_currency_decimals() -> None:
    tariff = dataclasses.replace(STANDARD, unlock_fee=Decimal(0))
    start = at("2026-06-01T12:00Z")

    charge = price(tariff, start, start)

    assert charge.lines == ()
    assert str(charge.total) == "0.00"


@pytest.mark.parametrize("naive", ["started_at", "ended_at"])
def test_naive_datetimes_are_refused(naive: str) -> None:
    instants = {"started_at": at("2026-06-01T12:00Z"), "ended_at": at("2026-06-01T13:00Z")}
    instants[naive] = instants[naive].replace(tzinfo=None)

    with pytest.raises(ValueError, match=f"{naive} must be timezone-aware"):
        price(STANDARD, **instants)


def test_ending_before_the_start_is_refused_with_a_stable_code() -> None:
    # Wall clocks say 02:10 is after 01:50, but 02:10 CEST is 00:10Z and 01:50 CET 00:50Z.
    with pytest.raises(EndsBeforeStart) as refused:
        price(STANDARD, at("2026-03-29T01:50+01:00"), at("2026-03-29T02:10+02:00"))

    assert isinstance(refused.value, DomainError)
    assert refused.value.code == "ends_before_start"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"time_zone": "Mars/Olympus_Mons"}, "time_zone", id="unknown-zone"),
        pytest.param({"time_zone": "../etc"}, "time_zone", id="path-escape-zone"),
        pytest.param({"time_zone": ""}, "time_zone", id="empty-zone"),
        pytest.param({"time_zone": "localtime"}, "time_zone", id="host-zone"),
        pytest.param({"currency": "XYZ"}, "currency", id="unknown-currency"),
        pytest.param({"bands": []}, "bands", id="no-bands"),
        pytest.param(
            {"bands": [Band(time(22), NIGHT_RATE), Band(time(7), DAY_RATE)]},
            "bands",
            id="unsorted-bands",
        ),
        pytest.param(
            {"bands": [Band(time(7), DAY_RATE), Band(time(7), NIGHT_RATE)]},
            "bands",
            id="duplicate-start-times",
        ),
        pytest.param({"unlock_fee": Decimal("-1.00")}, "unlock_fee", id="negative-fee"),
        pytest.param({"unlock_fee": 1.0}, "unlock_fee", id="float-fee"),
        pytest.param({"daily_cap": Decimal("NaN")}, "daily_cap", id="nan-cap"),
        pytest.param({"daily_cap": 45}, "daily_cap", id="int-cap"),
        pytest.param({"minimum_minutes": -1}, "minimum_minutes", id="negative-minimum"),
        pytest.param({"minimum_minutes": True}, "minimum_minutes", id="bool-minimum"),
        pytest.param({"minimum_minutes": 1.5}, "minimum_minutes", id="float-minimum"),
    ],
)
def test_invalid_tariffs_are_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidTariff) as refused:
        dataclasses.replace(STANDARD, **changes)

    assert refused.value.code == "invalid_tariff"
    assert refused.value.details["field"] == field
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("starts_at", "per_minute", "field"),
    [
        pytest.param(time(7), Decimal("-0.01"), "per_minute", id="negative-rate"),
        pytest.param(time(7), 0.35, "per_minute", id="float-rate"),
        pytest.param(time(7), Decimal("Infinity"), "per_minute", id="infinite-rate"),
        pytest.param(time(7, tzinfo=UTC), DAY_RATE, "starts_at", id="aware-start"),
        pytest.param("07:00", DAY_RATE, "starts_at", id="string-start"),
    ],
)
def test_invalid_bands_are_refused_naming_the_field(
    starts_at: object, per_minute: object, field: str
) -> None:
    with pytest.raises(InvalidTariff) as refused:
        Band(starts_at, per_minute)  # type: ignore[arg-type]

    assert refused.value.details["field"] == field


def test_tariff_keeps_its_bands_as_a_tuple_and_cannot_be_changed() -> None:
    assert isinstance(STANDARD.bands, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        STANDARD.currency = "USD"  # type: ignore[misc]


PARKING = dataclasses.replace(STANDARD, daily_cap=None, park_per_minute=Decimal("0.10"))


def parked(paused_at: str, resumed_at: str) -> Parked:
    return Parked(paused_at=at(paused_at), resumed_at=at(resumed_at))


def test_parked_across_the_fall_back_night_bills_180_minutes_paris_fall_back_2026_10_25() -> None:
    # Rented 01:00+02:00 (23:00Z) to 04:00+01:00 (03:00Z): 240 minutes, all at night.
    # Parked 01:30+02:00 (23:30Z) to 03:30+01:00 (02:30Z): 180 minutes, though the wall
    # clock moved two hours. Driving: 30 minutes before and 30 after, 60 x 0.20 = 12.00;
    # parked 180 x 0.10 = 18.00; the date is 30.00, plus the 1.00 unlock fee: 31.00.
    charge = price(
        PARKING,
        at("2026-10-25T01:00+02:00"),
        at("2026-10-25T04:00+01:00"),
        parked=[parked("2026-10-25T01:30+02:00", "2026-10-25T03:30+01:00")],
    )

    fall_back = date(2026, 10, 25)
    assert [line_view(line) for line in charge.lines] == [
        (UNLOCK_FEE, fall_back, None, 0, None, Decimal("1.00"), False),
        (MINUTES, fall_back, time(22), 60, NIGHT_RATE, Decimal("12.00"), False),
        (PARKED_MINUTES, fall_back, None, 180, Decimal("0.10"), Decimal("18.00"), False),
    ]
    assert (billable_minutes(charge), charge.total) == (240, Decimal("31.00"))


def test_parked_across_local_midnight_in_kathmandu_is_split_between_the_two_dates() -> None:
    # Kathmandu is +05:45. Rented 23:30 to 00:40 (70 minutes); parked 23:50 to 00:20:
    # 10 parked minutes on the 1st, 20 on the 2nd. Driving 20 minutes on the 1st and 20 on
    # the 2nd, at the night rate 0.20: the 1st is 4.00 + 1.00 parked = 5.00, the 2nd
    # 4.00 + 2.00 parked = 6.00; with the unlock fee, 12.00.
    tariff = standard_in("Asia/Kathmandu", park_per_minute=Decimal("0.10"), daily_cap=None)

    charge = price(
        tariff,
        at("2026-06-01T23:30+05:45"),
        at("2026-06-02T00:40+05:45"),
        parked=[parked("2026-06-01T23:50+05:45", "2026-06-02T00:20+05:45")],
    )

    first, second = date(2026, 6, 1), date(2026, 6, 2)
    assert [line_view(line) for line in charge.lines] == [
        (UNLOCK_FEE, first, None, 0, None, Decimal("1.00"), False),
        (MINUTES, first, time(22), 20, NIGHT_RATE, Decimal("4.00"), False),
        (PARKED_MINUTES, first, None, 10, Decimal("0.10"), Decimal("1.00"), False),
        (MINUTES, second, time(22), 20, NIGHT_RATE, Decimal("4.00"), False),
        (PARKED_MINUTES, second, None, 20, Decimal("0.10"), Decimal("2.00"), False),
    ]
    assert charge.total == Decimal("12.00")


def test_a_capped_day_caps_driving_and_parked_minutes_together() -> None:
    # 08:00-14:00 is 360 day minutes; parked 10:00-12:00 (120 minutes at 0.10 = 12.00),
    # driving 240 x 0.35 = 84.00: the date's 96.00 is capped at 45.00 by a -51.00 line.
    tariff = dataclasses.replace(STANDARD, park_per_minute=Decimal("0.10"))

    charge = price(
        tariff,
        at("2026-06-01T08:00+02:00"),
        at("2026-06-01T14:00+02:00"),
        parked=[parked("2026-06-01T10:00+02:00", "2026-06-01T12:00+02:00")],
    )

    june_first = date(2026, 6, 1)
    assert [line_view(line) for line in charge.lines] == [
        (UNLOCK_FEE, june_first, None, 0, None, Decimal("1.00"), False),
        (MINUTES, june_first, time(7), 240, DAY_RATE, Decimal("84.00"), True),
        (PARKED_MINUTES, june_first, None, 120, Decimal("0.10"), Decimal("12.00"), True),
        (DAILY_CAP, june_first, None, 0, None, Decimal("-51.00"), True),
    ]
    assert charge.total == Decimal("46.00")


def test_250_km_with_200_included_at_0_19_a_km_is_9_50_and_never_capped() -> None:
    # 50 km beyond the 200 included, at 0.19: 9.50, on top of a capped day.
    tariff = dataclasses.replace(STANDARD, per_km=Decimal("0.19"), included_km=200)

    charge = price(
        tariff,
        at("2026-06-01T08:00+02:00"),
        at("2026-06-01T12:00+02:00"),
        distance_km=Decimal("250"),
    )

    distance = charge.lines[-1]
    assert (distance.kind, distance.quantity, distance.unit, distance.amount) == (
        DISTANCE,
        Decimal("50"),
        "km",
        Decimal("9.50"),
    )
    assert charge.total == Decimal("1.00") + Decimal("45.00") + Decimal("9.50")


@pytest.mark.parametrize(
    ("distance_km", "included_km", "lines"),
    [
        pytest.param("199.9", 200, 0, id="under-the-included-km"),
        pytest.param("200", 200, 0, id="exactly-the-included-km"),
        pytest.param("200.1", 200, 1, id="a-tenth-beyond-rounds-to-0-02"),
    ],
)
def test_distance_within_the_included_km_costs_nothing(
    distance_km: str, included_km: int, lines: int
) -> None:
    tariff = dataclasses.replace(STANDARD, per_km=Decimal("0.19"), included_km=included_km)

    charge = price(
        tariff,
        at("2026-06-01T08:00+02:00"),
        at("2026-06-01T08:20+02:00"),
        distance_km=Decimal(distance_km),
    )

    assert sum(1 for line in charge.lines if line.kind == DISTANCE) == lines


@pytest.mark.parametrize(
    "distance_km", [Decimal("-1"), Decimal("12.55"), Decimal("NaN"), Decimal("Infinity"), 12.5]
)
def test_a_distance_that_is_not_a_tenth_of_a_km_or_is_negative_is_refused(distance_km) -> None:
    with pytest.raises(InvalidDistance):
        price(
            STANDARD,
            at("2026-06-01T08:00+02:00"),
            at("2026-06-01T08:20+02:00"),
            distance_km=distance_km,
        )


@pytest.mark.parametrize(
    "intervals",
    [
        pytest.param([("08:10", "08:05")], id="resumes-before-it-pauses"),
        pytest.param([("07:50", "08:05")], id="before-the-start"),
        pytest.param([("08:10", "08:30")], id="after-the-end"),
        pytest.param([("08:05", "08:12"), ("08:10", "08:15")], id="overlapping"),
        pytest.param([("08:10", "08:15"), ("08:05", "08:08")], id="out-of-order"),
    ],
)
def test_a_parked_interval_outside_the_rental_or_overlapping_is_refused(intervals) -> None:
    with pytest.raises(InvalidParkedInterval):
        price(
            PARKING,
            at("2026-06-01T08:00+02:00"),
            at("2026-06-01T08:20+02:00"),
            parked=[parked(f"2026-06-01T{a}+02:00", f"2026-06-01T{b}+02:00") for a, b in intervals],
        )


def test_minimum_minutes_past_the_end_are_never_parked() -> None:
    # Parked for the whole 10 minutes of a rental with a 30-minute minimum: the 20 minutes
    # added past the end are driving minutes (20 x 0.35 = 7.00), the 10 parked cost 1.00.
    tariff = dataclasses.replace(PARKING, minimum_minutes=30)

    charge = price(
        tariff,
        at("2026-06-01T08:00+02:00"),
        at("2026-06-01T08:10+02:00"),
        parked=[parked("2026-06-01T08:00+02:00", "2026-06-01T08:10+02:00")],
    )

    assert [(line.kind, line.quantity, line.amount) for line in charge.lines] == [
        (UNLOCK_FEE, Decimal(1), Decimal("1.00")),
        (MINUTES, Decimal(20), Decimal("7.00")),
        (PARKED_MINUTES, Decimal(10), Decimal("1.00")),
    ]
