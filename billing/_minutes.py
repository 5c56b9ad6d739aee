"""Count minutes per local date and band without walking them one by one.

The engine behind ``billing.pricing``: private, specified by the minute-by-minute reference
in ``tests/reference.py`` (the tests and the benchmark both hold it against this).

Minutes form a grid anchored at ``origin``: minute ``k`` starts at ``origin + k minutes``.
``count_minutes`` counts the grid minutes whose start lies in ``[start, stop)``, per local
calendar day and band. The period is cut into segments over which the zone's UTC offset, the
local date and the band are all constant, and the minutes starting in each segment are counted
with integer arithmetic on microseconds. The cost grows with local dates times bands, not with
the duration; whole steady 24-hour days are counted once per phase of the grid.

Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

SECOND: Final = 1_000_000  # every instant here is an integer of microseconds since 1970
MINUTE: Final = 60 * SECOND
DAY: Final = 86_400 * SECOND
_ONE_MICROSECOND: Final = dt.timedelta(microseconds=1)
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL: Final = _EPOCH.date().toordinal()
_fromtimestamp: Final = dt.datetime.fromtimestamp
# How far ahead one probe may look for an offset change. The probe only sees a change if
# the offset differs at its end, so two changes inside one probe (there and back) would
# hide. In tzdata 2025b the closest two offset changes of any zone between 1970 and 2037 are
# 167 hours apart (Brazil, October 2000); 6 hours leaves a wide margin.
_PROBE: Final = 6 * 3_600 * SECOND

# Per local day (days since 1970-01-01 on the local calendar), band index -> minutes, bands
# in the order their minutes first occur that day.
Counts = dict[int, dict[int, int]]


def micros(instant: dt.datetime) -> int:
    """Return an aware instant as microseconds since 1970-01-01T00:00Z."""
    return (instant - _EPOCH) // _ONE_MICROSECOND


def time_of_day(value: dt.time) -> int:
    """Return a wall-clock time as microseconds since local midnight."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * SECOND + value.microsecond


def local_date(day: int) -> dt.date:
    """Return the calendar date of a local day number."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + day)


def local_day(zone: ZoneInfo, instant: int) -> int:
    """Return the local day number holding ``instant``."""
    return (instant + offset(zone, instant)) // DAY


def count_minutes(
    zone: ZoneInfo, band_starts: tuple[int, ...], *, origin: int, start: int, stop: int
) -> Counts:
    """Count the grid minutes starting in ``[start, stop)``, per local day and band.

    ``band_starts`` are the bands' starts (microseconds after local midnight), strictly
    increasing; before the first one, the last band applies (bands wrap around midnight).
    """
    last_band = len(band_starts) - 1
    counts: Counts = {}
    if stop <= start:
        return counts
    steady_days: dict[int, tuple[tuple[int, int], ...]] = {}
    t = start
    local_offset = offset(zone, t)
    counted = -(-(t - origin) // MINUTE)  # grid minutes starting before t
    while t < stop:
        day, wall = divmod(t + local_offset, DAY)
        if wall == 0 and t + DAY <= stop and _steady_day(zone, t, local_offset):
            # A whole 24-hour local day: its counts depend only on where minutes start
            # relative to its midnight, so compute them once per phase.
            phase = (t - origin) % MINUTE
            day_counts = steady_days.get(phase)
            if day_counts is None:
                day_counts = steady_days[phase] = _steady_day_counts(band_starts, phase)
            day_bands = counts.setdefault(day, {})
            for band, minutes in day_counts:
                day_bands[band] = day_bands.get(band, 0) + minutes
            t += DAY
            counted += DAY // MINUTE
            continue
        following = bisect_right(band_starts, wall)
        next_wall = day * DAY + (band_starts[following] if following <= last_band else DAY)
        # The band and date hold until the next band start or midnight, read with this
        # offset; the offset itself holds until the next probe shows otherwise.
        segment_end = min(next_wall - local_offset, t + _PROBE, stop)
        next_offset = offset(zone, segment_end)
        if next_offset != local_offset:
            segment_end = _transition(zone, t, segment_end, local_offset)
            next_offset = offset(zone, segment_end)
        upto = -(-(segment_end - origin) // MINUTE)
        if upto > counted:
            band = following - 1 if following else last_band
            day_bands = counts.setdefault(day, {})
            day_bands[band] = day_bands.get(band, 0) + upto - counted
            counted = upto
        t, local_offset = segment_end, next_offset
    return counts


def offset(zone: ZoneInfo, instant: int) -> int:
    """Return the zone's UTC offset in microseconds at ``instant`` (microseconds)."""
    # Offsets change on whole seconds, so the second holding the instant decides.
    utcoffset = _fromtimestamp(instant // SECOND, zone).utcoffset()
    assert utcoffset is not None  # a ZoneInfo always knows its offset
    return utcoffset // _ONE_MICROSECOND


def _steady_day(zone: ZoneInfo, midnight: int, local_offset: int) -> bool:
    """Tell whether the offset stays ``local_offset`` for the 24 hours from ``midnight``."""
    return all(
        offset(zone, midnight + probe) == local_offset for probe in range(_PROBE, DAY + 1, _PROBE)
    )


def _steady_day_counts(band_starts: tuple[int, ...], phase: int) -> tuple[tuple[int, int], ...]:
    """Count a steady day's minutes per band, a minute starting ``phase`` before midnight.

    Bands come in the order their minutes first occur, as in ``count_minutes``.
    """
    last_band = len(band_starts) - 1
    pieces = [(0, band_starts[0], last_band)]
    pieces += [(start, end, band) for band, (start, end) in enumerate(pairwise(band_starts))]
    pieces.append((band_starts[-1], DAY, last_band))
    counts: dict[int, int] = {}
    for start, end, band in pieces:
        minutes = -(-(phase + end) // MINUTE) + (phase + start) // -MINUTE
        if minutes:
            counts[band] = counts.get(band, 0) + minutes
    return tuple(counts.items())


def _transition(zone: ZoneInfo, after: int, until: int, local_offset: int) -> int:
    """Return the first instant in ``(after, until]`` whose offset is not ``local_offset``.

    Transitions fall on whole seconds, so bisect over seconds.
    """
    low, high = after // SECOND, -(-until // SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if offset(zone, middle * SECOND) == local_offset:
            low = middle
        else:
            high = middle
    return high * SECOND
