"""Time ``price`` against a minute-by-minute walk: ``python -m bench.bench_pricing``.

Prints a Markdown table; ``run()`` returns the same rows for a bench driver.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from billing.money import minor_unit
from billing.pricing import Band, Tariff, price

PARIS = ZoneInfo("Europe/Paris")
STANDARD = Tariff(
    time_zone="Europe/Paris",
    currency="EUR",
    bands=[Band(time(7, 0), Decimal("0.35")), Band(time(22, 0), Decimal("0.20"))],
    unlock_fee=Decimal("1.00"),
    minimum_minutes=0,
    daily_cap=Decimal("45.00"),
)
START = datetime(2026, 10, 10, 8, 13, 27, tzinfo=PARIS)
# The 30-day case crosses the Paris fall-back night (2026-10-25).
CASES = [
    ("1 hour", timedelta(hours=1)),
    ("1 day", timedelta(days=1)),
    ("30 days (with a DST night)", timedelta(days=30)),
]


def brute_force_price(tariff: Tariff, started_at: datetime, ended_at: datetime) -> Decimal:
    """Price minute by minute, the way price() must not (a copy of the tests' reference)."""
    zone = ZoneInfo(tariff.time_zone)
    start, end = started_at.astimezone(UTC), ended_at.astimezone(UTC)
    whole, part = divmod(end - start, timedelta(minutes=1))
    minutes = max(whole + (1 if part else 0), tariff.minimum_minutes)
    per_date: dict[object, Decimal] = {}
    for k in range(minutes):
        wall = (start + timedelta(minutes=k)).astimezone(zone)
        band = tariff.bands[-1]
        for candidate in tariff.bands:
            if candidate.starts_at <= wall.time():
                band = candidate
        per_date[wall.date()] = per_date.get(wall.date(), Decimal(0)) + band.per_minute
    quantum = Decimal(1).scaleb(-minor_unit(tariff.currency))
    total = tariff.unlock_fee.quantize(quantum, ROUND_HALF_UP)
    for amount in per_date.values():
        rounded = amount.quantize(quantum, ROUND_HALF_UP)
        if tariff.daily_cap is not None:
            rounded = min(rounded, tariff.daily_cap.quantize(quantum, ROUND_HALF_UP))
        total += rounded
    return total


def best_microseconds(call: Callable[[], object], repeat: int = 5) -> float:
    """Return the best time per call over ``repeat`` rounds, in microseconds."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def run() -> list[dict[str, object]]:
    """Time every case; each row has case, price_us, brute_force_us and speedup."""
    rows: list[dict[str, object]] = []
    for case, duration in CASES:
        end = START + duration
        charge = price(STANDARD, START, end)
        if charge.total != brute_force_price(STANDARD, START, end):
            raise AssertionError(f"{case}: price() and the minute walk disagree")
        fast = best_microseconds(lambda end=end: price(STANDARD, START, end))
        slow = best_microseconds(lambda end=end: brute_force_price(STANDARD, START, end), 3)
        rows.append(
            {
                "case": case,
                "minutes": charge.minutes,
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
