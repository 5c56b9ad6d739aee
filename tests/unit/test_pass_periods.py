"""Pass periods: local-calendar anniversaries of the first day, half-open between midnights."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.localtime import start_of_local_day
from fleet import periods

PARIS = "Europe/Paris"


def test_a_pass_from_31_january_renews_on_each_month_end_across_a_year_never_drifting():
    firsts = [periods.period(anchor=date(2026, 1, 31), index=k, time_zone=PARIS) for k in range(13)]

    assert [p.first_date for p in firsts] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
        date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31), date(2026, 8, 31),
        date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 31),
        date(2027, 1, 31),
    ]  # fmt: skip
    assert [p.last_date for p in firsts[:3]] == [
        date(2026, 2, 27),
        date(2026, 3, 30),
        date(2026, 4, 29),
    ]
    # Half-open and contiguous: each period ends where the next begins, at a local midnight.
    for before, after in itertools.pairwise(firsts):
        assert before.ends_at == after.starts_at
        local = after.starts_at.astimezone(ZoneInfo(PARIS))
        assert (local.hour, local.minute, local.second) == (0, 0, 0)


def test_a_leap_year_february_gets_its_29th():
    assert periods.period(anchor=date(2028, 1, 31), index=1, time_zone=PARIS).first_date == date(
        2028, 2, 29
    )


@pytest.mark.parametrize(
    ("anchor", "hours"),
    [(date(2026, 3, 29), 31 * 24 - 1), (date(2026, 10, 25), 31 * 24 + 1)],
    ids=["paris-spring-forward-night", "paris-fall-back-night"],
)
def test_a_subscription_starting_on_a_dst_night_runs_from_local_midnight_to_local_midnight(
    anchor, hours
):
    first = periods.period(anchor=anchor, index=0, time_zone=PARIS)

    start = first.starts_at.astimezone(ZoneInfo(PARIS))
    end = first.ends_at.astimezone(ZoneInfo(PARIS))
    assert (start.date(), start.time().isoformat()) == (anchor, "00:00:00")
    assert (end.day, end.time().isoformat()) == (anchor.day, "00:00:00")
    # The local month is 31 days; in UTC it is an hour shorter or longer.
    assert first.ends_at - first.starts_at == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("day", "zone", "first_instant"),
    [
        (date(2018, 11, 4), "America/Sao_Paulo", datetime(2018, 11, 4, 3, 0, tzinfo=UTC)),
        (date(2011, 12, 30), "Pacific/Apia", datetime(2011, 12, 30, 10, 0, tzinfo=UTC)),
        (date(2026, 3, 29), PARIS, datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
    ],
    ids=["sao-paulo-day-without-midnight", "apia-day-that-never-happened", "paris-spring"],
)
def test_a_local_day_starts_at_its_first_instant_even_without_a_midnight(day, zone, first_instant):
    assert start_of_local_day(day, zone) == first_instant


def test_the_period_containing_an_instant_is_found_at_its_half_open_bounds():
    anchor = date(2026, 1, 31)
    second = periods.period(anchor=anchor, index=1, time_zone=PARIS)

    assert periods.index_at(anchor=anchor, at=second.starts_at, time_zone=PARIS) == 1
    assert periods.index_at(anchor=anchor, at=second.ends_at, time_zone=PARIS) == 2
    before = second.starts_at - timedelta(microseconds=1)
    assert periods.index_at(anchor=anchor, at=before, time_zone=PARIS) == 0
    assert (
        periods.index_at(anchor=anchor, at=datetime(2026, 1, 1, tzinfo=UTC), time_zone=PARIS)
        is None
    )


def test_a_negative_period_is_refused():
    with pytest.raises(ValueError):
        periods.period(anchor=date(2026, 1, 31), index=-1, time_zone=PARIS)
