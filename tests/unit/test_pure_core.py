"""The pure core is pure: no Django, and no dependence on the machine's time zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NO_DJANGO = """
import json, sys
import billing.canonical, billing.charges, billing.money, billing.pricing
import billing.accounting.entries, billing.accounting.periods
import core.errors, core.localtime
import fleet.periods
print(json.dumps(sorted(m for m in sys.modules if m == "django" or m.startswith("django."))))
"""

# Prices that cross local midnights and both Paris DST nights, with instants written in
# UTC, in fixed offsets and in zones; the output must not move with the process TZ.
PRICE_UNDER_HOST_TZ = """
import time
time.tzset()
from datetime import datetime, time as wall, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo
from billing.pricing import Band, Tariff, price
tariff = Tariff(
    time_zone="Europe/Paris", currency="EUR", vat_rate=Decimal("0.20"),
    bands=[Band(wall(7), Decimal("0.35")), Band(wall(22), Decimal("0.20"))],
    unlock_fee=Decimal("1.00"), daily_cap=Decimal("45.00"),
)
cases = [
    (datetime(2026, 10, 24, 21, 30, tzinfo=timezone.utc), timedelta(hours=30)),
    (datetime(2026, 3, 28, 23, 59, tzinfo=timezone(timedelta(hours=-10))), timedelta(days=3)),
    (datetime(2026, 6, 30, 23, 50, tzinfo=ZoneInfo("Pacific/Kiritimati")), timedelta(hours=2)),
]
for start, duration in cases:
    print(repr(price(tariff, start, start + duration)))
"""


def run_python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_pricing_money_charges_canonical_and_local_time_import_no_django_module() -> None:
    assert json.loads(run_python(NO_DJANGO)) == []


@pytest.mark.parametrize("host_zone", ["Pacific/Kiritimati", "America/Los_Angeles"])
def test_prices_are_the_same_whatever_the_process_time_zone(host_zone: str) -> None:
    reference = run_python(PRICE_UNDER_HOST_TZ, TZ="UTC")

    assert run_python(PRICE_UNDER_HOST_TZ, TZ=host_zone) == reference
    assert reference.count("Charge(") == 3
