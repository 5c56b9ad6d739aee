"""Local time: load a zone, read wall-clock input in it, write instants for people.

Every instant is stored and subtracted in UTC; local time answers local questions only
(which band, which day, which year). zoneinfo silently "fixes" wall-clock input that a
clock change blurs: a nonexistent 02:30 becomes 03:30, an ambiguous one takes ``fold=0``.
Here both are refused, naming the zone and the candidate offsets, so that the client
resends the instant with an offset. Pure: no Django.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import tz

from core.errors import DomainError

# Keys that name the machine's own setting, not a zone: results would follow the host.
_HOST_DEPENDENT_KEYS: Final = frozenset({"localtime", "posixrules"})


class UnknownTimeZone(DomainError, ValueError):
    """The name is not an IANA time zone known to this machine (or names the host's own)."""

    code = "unknown_time_zone"


class AmbiguousLocalTime(DomainError):
    """The wall-clock time happened twice in the zone (the clocks fell back over it)."""

    code = "ambiguous_local_time"


class NonexistentLocalTime(DomainError):
    """The wall-clock time never happened in the zone (the clocks sprang forward over it)."""

    code = "nonexistent_local_time"


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _HOST_DEPENDENT_KEYS


def load_time_zone(key: object) -> ZoneInfo:
    """Return the ZoneInfo for an IANA name; host-dependent keys such as "localtime" are refused.

    Raises:
        UnknownTimeZone: unknown, malformed or host-dependent name (field "time_zone").
    """
    if isinstance(key, str) and key in _known_zones():
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # listed but unreadable: refuse it like any unknown key
    raise UnknownTimeZone(
        f"Unknown time zone {key!r}: expected an IANA name such as 'Europe/Paris'.",
        field="time_zone",
    )


def format_offset(offset: timedelta | None) -> str:
    """Format a UTC offset as ``+01:00`` (``+05:45``, ``-00:44:30`` when it has seconds)."""
    seconds = int((offset or timedelta(0)).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{secs:02d}" if secs else text


def resolve_wall_time(value: datetime, time_zone: str) -> datetime:
    """Return ``value`` as an aware instant: as given if aware, else read in ``time_zone``.

    Raises:
        NonexistentLocalTime: the wall time was skipped by a clock change in that zone.
        AmbiguousLocalTime: the wall time happened twice in that zone.
    """
    if value.tzinfo is not None:
        return value
    zone = ZoneInfo(time_zone)
    earlier = value.replace(tzinfo=zone, fold=0)
    later = value.replace(tzinfo=zone, fold=1)
    offsets = [format_offset(earlier.utcoffset()), format_offset(later.utcoffset())]
    if not tz.datetime_exists(earlier):
        raise NonexistentLocalTime(
            f"{value.isoformat()} did not happen in {time_zone} (the clocks moved from "
            f"{offsets[0]} to {offsets[1]}); send the instant with an offset.",
            time_zone=time_zone,
            candidate_offsets=offsets,
        )
    if tz.datetime_ambiguous(earlier):
        raise AmbiguousLocalTime(
            f"{value.isoformat()} happened twice in {time_zone} (at {offsets[0]} and at "
            f"{offsets[1]}); send the instant with an offset.",
            time_zone=time_zone,
            candidate_offsets=offsets,
        )
    return earlier


def start_of_local_day(day: date, time_zone: str) -> datetime:
    """Return the first instant of the local calendar date ``day`` in ``time_zone``, in UTC.

    Usually local midnight. Some days have no midnight (America/Sao_Paulo 2018-11-04 began
    at 01:00) or never happened (Pacific/Apia 2011-12-30): the day then starts at the clock
    change, the first instant whose wall time is not before that date. A midnight that
    happened twice starts the day at its first occurrence.
    """
    zone = ZoneInfo(time_zone)
    midnight = datetime.combine(day, time(0))
    earlier = midnight.replace(tzinfo=zone, fold=0)
    if tz.datetime_exists(earlier):
        return earlier.astimezone(UTC)
    # In a gap: fold=1 reads midnight with the offset after the change (an instant before
    # it), fold=0 with the offset before (an instant after it). Offsets are whole seconds,
    # so the change is found to the second between the two readings.
    low = int(midnight.replace(tzinfo=zone, fold=1).timestamp())
    high = int(earlier.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= midnight:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def local_iso(instant: datetime, time_zone: str) -> str:
    """Return ``instant`` as ISO 8601 wall-clock time in ``time_zone``, with its offset."""
    return instant.astimezone(ZoneInfo(time_zone)).isoformat()


def utc_iso(instant: datetime) -> str:
    """Return ``instant`` as ISO 8601 in UTC with a ``Z``."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
