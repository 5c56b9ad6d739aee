"""Local-calendar periods: the first instant of a local date, and quick periods per zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billing import display, periods


@pytest.mark.parametrize(
    ("day", "time_zone", "expected"),
    [
        (date(2026, 1, 15), "Europe/Paris", datetime(2026, 1, 14, 23, 0, tzinfo=UTC)),
        (date(2026, 7, 1), "Europe/Paris", datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),
        # The spring-forward and fall-back days start at an ordinary midnight.
        (date(2026, 3, 29), "Europe/Paris", datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        (date(2026, 10, 26), "Europe/Paris", datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
        # No midnight: the clocks went from 00:00 to 01:00; the day starts with the change.
        (date(2018, 11, 4), "America/Sao_Paulo", datetime(2018, 11, 4, 3, 0, tzinfo=UTC)),
        # A day that never happened is empty: it starts where the next one does.
        (date(2011, 12, 30), "Pacific/Apia", datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
        (date(2011, 12, 31), "Pacific/Apia", datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
    ],
    ids=[
        "paris-winter", "paris-summer", "paris-spring-forward-day", "paris-day-after-fall-back",
        "sao-paulo-day-without-midnight", "apia-skipped-day", "apia-day-after",
    ],
)  # fmt: skip
def test_a_local_date_starts_at_its_first_instant_in_the_zone(day, time_zone, expected):
    assert periods.first_instant(day, time_zone) == expected


def test_the_paris_fall_back_day_lasts_25_hours():
    start = periods.first_instant(date(2026, 10, 25), "Europe/Paris")
    end = periods.first_instant(date(2026, 10, 26), "Europe/Paris")

    assert (end - start).total_seconds() == 25 * 3600


@pytest.mark.parametrize(
    ("quick", "in_paris", "in_new_york"),
    [
        ("today", (date(2026, 2, 1), date(2026, 2, 2)), (date(2026, 1, 31), date(2026, 2, 1))),
        ("this_month", (date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 1, 1), date(2026, 2, 1))),
        ("last_month", (date(2026, 1, 1), date(2026, 2, 1)), (date(2025, 12, 1), date(2026, 1, 1))),
        ("this_year", (date(2026, 1, 1), date(2027, 1, 1)), (date(2026, 1, 1), date(2027, 1, 1))),
        ("last_year", (date(2025, 1, 1), date(2026, 1, 1)), (date(2025, 1, 1), date(2026, 1, 1))),
    ],
)  # fmt: skip
def test_a_quick_period_is_read_in_each_zones_own_calendar(quick, in_paris, in_new_york):
    # 23:30 UTC on 31 January: already 1 February in Paris, still 31 January in New York.
    period = periods.parse({"period": quick}, now=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))

    assert period.dates_in("Europe/Paris") == in_paris
    assert period.dates_in("America/New_York") == in_new_york


@pytest.mark.parametrize(
    "query",
    [
        {"period": "yesterday"},
        {"issued_from": "31/01/2026"},
        {"issued_from": "20260131"},
        {"issued_from": "2026-02-30"},
        {"issued_from": "2026-02-01", "issued_to": "2026-02-01"},
        {"period": "last_month", "issued_from": "2026-02-01"},
    ],
    ids=["unknown", "not-iso", "basic-iso", "no-such-day", "empty", "both"],
)
def test_a_malformed_period_is_refused(query):
    with pytest.raises(periods.InvalidPeriod):
        periods.parse(query, now=datetime(2026, 2, 15, tzinfo=UTC))


@pytest.mark.parametrize(
    ("instant", "time_zone", "shown"),
    [
        (datetime(2026, 1, 15, 8, 6, tzinfo=UTC), "Europe/Paris", "2026-01-15 09:06 +01:00"),
        (datetime(2026, 7, 15, 8, 6, tzinfo=UTC), "Europe/Paris", "2026-07-15 10:06 +02:00"),
        # The fall-back night's two 02:30s, told apart by their offsets.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Paris", "2026-10-25 02:30 +02:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Paris", "2026-10-25 02:30 +01:00"),
        (datetime(2026, 1, 15, 8, 6, tzinfo=UTC), "Asia/Kathmandu", "2026-01-15 13:51 +05:45"),
    ],
    ids=["paris-winter", "paris-summer", "fall-back-first", "fall-back-second", "kathmandu"],
)
def test_times_are_shown_on_the_documents_wall_clock_with_the_offset(instant, time_zone, shown):
    assert display.local_time(instant, time_zone) == shown


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [("1.3500", "EUR", "1.35"), ("600", "JPY", "600"), ("1.5", "KWD", "1.500")],
)
def test_amounts_are_shown_with_the_currencys_decimals(amount, currency, shown):
    from decimal import Decimal

    assert display.amount(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("vat_rate", "shown"), [("0.2000", "20%"), ("0.055", "5.5%"), ("0.0000", "0%")]
)
def test_vat_rates_are_shown_as_percents(vat_rate, shown):
    from decimal import Decimal

    assert display.percent(Decimal(vat_rate)) == shown
