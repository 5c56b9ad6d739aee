"""The pricing rule walked minute by minute: the specification of ``billing.pricing``.

Written from the words of the rule (docs/reference/pricing-rule.md) and sharing no code with
the implementation: it walks every minute, asks Python for its wall-clock time, scans the
bands and the parked intervals, and rounds with plain ``Decimal.quantize``. It is slow, and
obviously right. The property tests hold ``price()`` against it, and
``bench/bench_pricing.py`` times it as the ceiling ``price()`` must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from billing import charges, pricing
from billing.money import minor_unit

ONE_MINUTE = timedelta(minutes=1)


@dataclass
class Reference:
    minutes: int
    total: Decimal
    # Per local date, band start -> driving minutes, bands in the order their first minute
    # (driving or parked) occurs that date.
    counts: dict[date, dict[time, int]]
    parked: dict[date, int]  # per local date, the parked minutes (when the tariff has a rate)
    per_date: dict[date, Decimal]  # per local date, the rounded and capped amount
    capped: set[date]  # local dates whose cap applied
    distance: Decimal  # the distance charge


def brute_force_price(
    tariff: pricing.Tariff,
    started_at: datetime,
    ended_at: datetime,
    parked: Sequence[pricing.Parked] = (),
    distance_km: Decimal = Decimal(0),
) -> Reference:
    """Price minute by minute, straight from the rule."""
    zone = ZoneInfo(tariff.time_zone)
    start, end = started_at.astimezone(UTC), ended_at.astimezone(UTC)
    whole, part = divmod(end - start, ONE_MINUTE)
    minutes = max(whole + (1 if part else 0), tariff.minimum_minutes)
    intervals = [(p.paused_at.astimezone(UTC), p.resumed_at.astimezone(UTC)) for p in parked]
    order: dict[date, list[time]] = {}
    counts: dict[date, dict[time, int]] = {}
    parked_minutes: dict[date, int] = {}
    exact: dict[date, Decimal] = {}
    for k in range(minutes):
        instant = start + k * ONE_MINUTE
        wall = instant.astimezone(zone)
        band = tariff.bands[-1]
        for candidate in tariff.bands:
            if candidate.starts_at <= wall.time():
                band = candidate
        day = wall.date()
        seen = order.setdefault(day, [])
        if band.starts_at not in seen:
            seen.append(band.starts_at)
        is_parked = tariff.park_per_minute is not None and any(
            paused <= instant < resumed for paused, resumed in intervals
        )
        if is_parked:
            parked_minutes[day] = parked_minutes.get(day, 0) + 1
            rate = tariff.park_per_minute
        else:
            day_counts = counts.setdefault(day, {})
            day_counts[band.starts_at] = day_counts.get(band.starts_at, 0) + 1
            rate = band.per_minute
        exact[day] = exact.get(day, Decimal(0)) + rate
    counts = {
        day: {starts: counts[day][starts] for starts in order[day] if starts in counts.get(day, {})}
        for day in order
        if day in counts
    }
    quantum = Decimal(1).scaleb(-minor_unit(tariff.currency))
    per_date, capped = {}, set()
    for day, amount in exact.items():
        per_date[day] = amount.quantize(quantum, ROUND_HALF_UP)
        if tariff.daily_cap is not None:
            cap = tariff.daily_cap.quantize(quantum, ROUND_HALF_UP)
            if per_date[day] > cap:
                per_date[day] = cap
                capped.add(day)
    beyond = max(Decimal(0), distance_km - tariff.included_km)
    distance = (beyond * tariff.per_km).quantize(quantum, ROUND_HALF_UP)
    total = tariff.unlock_fee.quantize(quantum, ROUND_HALF_UP) + sum(per_date.values()) + distance
    return Reference(minutes, total, counts, parked_minutes, per_date, capped, distance)


def line_view(line: charges.ChargeLine) -> tuple[object, ...]:
    """Return a pricing line as (kind, date, band start, minutes, rate, amount, capped)."""
    band = line.details.get("band_starts_at")
    per_minute = line.unit == pricing.MINUTE_UNIT
    return (
        line.kind,
        line.local_date,
        None if band is None else time.fromisoformat(str(band)),
        int(line.quantity) if per_minute else 0,
        line.unit_price if per_minute else None,
        line.amount,
        bool(line.details.get("capped", False)),
    )
