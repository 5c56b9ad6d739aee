"""Time ``price`` against a minute-by-minute walk: ``python -m bench.bench_pricing``.

Prints a Markdown table; ``run()`` returns the same rows for a bench driver.
"""

from __future__ import annotations

import dataclasses
import timeit
from collections.abc import Callable
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.pricing import Band, Parked, Tariff, billable_minutes, price
from tests.reference import brute_force_price

PARIS = ZoneInfo("Europe/Paris")
STANDARD = Tariff(
    time_zone="Europe/Paris",
    currency="EUR",
    vat_rate=Decimal("0.20"),
    bands=[Band(time(7, 0), Decimal("0.35")), Band(time(22, 0), Decimal("0.20"))],
    unlock_fee=Decimal("1.00"),
    minimum_minutes=0,
    daily_cap=Decimal("45.00"),
)
START = datetime(2026, 10, 10, 8, 13, 27, tzinfo=PARIS)
PARKING = dataclasses.replace(
    STANDARD, park_per_minute=Decimal("0.10"), per_km=Decimal("0.19"), included_km=200
)
# Sixty pauses over 30 days: two a day, of 47 minutes and of 2 h 13 min 30 s.
PAUSES = [
    Parked(paused_at=START + timedelta(hours=12 * i + 3), resumed_at=START + timedelta(
        hours=12 * i + 3, minutes=47 if i % 2 else 133, seconds=0 if i % 2 else 30))
    for i in range(60)
]  # fmt: skip
# The 30-day cases cross the Paris fall-back night (2026-10-25).
CASES = [
    ("1 hour", STANDARD, timedelta(hours=1), []),
    ("1 day", STANDARD, timedelta(days=1), []),
    ("30 days (with a DST night)", STANDARD, timedelta(days=30), []),
    ("30 days, 60 parked intervals, 1,234.5 km", PARKING, timedelta(days=30), PAUSES),
]


def best_microseconds(call: Callable[[], object], repeat: int = 5) -> float:
    """Return the best time per call over ``repeat`` rounds, in microseconds."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def run() -> list[dict[str, object]]:
    """Time every case; each row has case, price_us, brute_force_us and speedup."""
    rows: list[dict[str, object]] = []
    for case, tariff, duration, pauses in CASES:
        end = START + duration
        km = Decimal("1234.5") if pauses else Decimal(0)

        def fast_call(tariff=tariff, end=end, pauses=pauses, km=km):
            return price(tariff, START, end, parked=pauses, distance_km=km)

        def slow_call(tariff=tariff, end=end, pauses=pauses, km=km):
            return brute_force_price(tariff, START, end, pauses, km)

        charge = fast_call()
        if charge.total != slow_call().total:
            raise AssertionError(f"{case}: price() and the minute walk disagree")
        fast = best_microseconds(fast_call)
        slow = best_microseconds(slow_call, 3)
        rows.append(
            {
                "case": case,
                "minutes": billable_minutes(charge),
                "price_us": round(fast, 1),
                "brute_force_us": round(slow, 1),
                "speedup": round(slow / fast, 1),
            }
        )
    return rows


def main() -> None:
    print("| case | minutes | price() µs/call | brute force µs/call | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for row in run():
        print(
            f"| {row['case']} | {row['minutes']} | {row['price_us']} | "
            f"{row['brute_force_us']} | {row['speedup']}x |"
        )


if __name__ == "__main__":
    main()
