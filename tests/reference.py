"""The pricing rule walked minute by minute: the specification of ``billing.pricing``.

Written from the words of the rule (docs/reference/pricing-rule.md) and sharing no code with
the implementation: it walks every minute, asks Python for its wall-clock time, scans the
bands and rounds with plain ``Decimal.quantize``. It is slow, and obviously right. The
property tests hold ``price()`` against it, and ``bench/bench_pricing.py`` times it as the
ceiling ``price()`` must beat.
"""

from __future__ import annotations

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
    counts: dict[date, dict[time, int]]  # per local date, band start -> minutes, in order
    per_date: dict[date, Decimal]  # per local date, the rounded and capped amount
    capped: set[date]  # local dates whose cap applied


def brute_force_price(
    tariff: pricing.Tariff, started_at: datetime, ended_at: datetime
) -> Reference:
    """Price minute by minute, straight from the rule."""
    zone = ZoneInfo(tariff.time_zone)
    start, end = started_at.astimezone(UTC), ended_at.astimezone(UTC)
    whole, part = divmod(end - start, ONE_MINUTE)
    minutes = max(whole + (1 if part else 0), tariff.minimum_minutes)
    counts: dict[date, dict[time, int]] = {}
    for k in range(minutes):
        wall = (start + k * ONE_MINUTE).astimezone(zone)
        band = tariff.bands[-1]
        for candidate in tariff.bands:
            if candidate.starts_at <= wall.time():
                band = candidate
        day = counts.setdefault(wall.date(), {})
        day[band.starts_at] = day.get(band.starts_at, 0) + 1
    quantum = Decimal(1).scaleb(-minor_unit(tariff.currency))
    rates = {band.starts_at: band.per_minute for band in tariff.bands}
    per_date, capped = {}, set()
    for day, bands in counts.items():
        exact = sum((rates[starts_at] * n for starts_at, n in bands.items()), Decimal(0))
        per_date[day] = exact.quantize(quantum, ROUND_HALF_UP)
        if tariff.daily_cap is not None:
            cap = tariff.daily_cap.quantize(quantum, ROUND_HALF_UP)
            if per_date[day] > cap:
                per_date[day] = cap
                capped.add(day)
    total = tariff.unlock_fee.quantize(quantum, ROUND_HALF_UP) + sum(per_date.values())
    return Reference(minutes, total, counts, per_date, capped)


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
