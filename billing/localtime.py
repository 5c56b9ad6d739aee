"""Read wall-clock input in a zone, refusing the times a clock change makes doubtful.

zoneinfo silently "fixes" such input (PITFALLS 2): a nonexistent 02:30 becomes 03:30, an
ambiguous one takes ``fold=0``. Here both are refused, naming the zone and the candidate
offsets, so that the client resends the instant with an offset. Pure: no Django.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import tz

from billing.errors import DomainError


class AmbiguousLocalTime(DomainError):
    code = "ambiguous_local_time"


class NonexistentLocalTime(DomainError):
    code = "nonexistent_local_time"


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


def local_iso(instant: datetime, time_zone: str) -> str:
    """Return ``instant`` as ISO 8601 wall-clock time in ``time_zone``, with its offset."""
    return instant.astimezone(ZoneInfo(time_zone)).isoformat()


def utc_iso(instant: datetime) -> str:
    """Return ``instant`` as ISO 8601 in UTC with a ``Z``."""
    text = instant.astimezone(ZoneInfo("UTC")).isoformat()
    return text.replace("+00:00", "Z")
