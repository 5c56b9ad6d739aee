"""The tariff in force: the member's plan, the vehicle's zone, the latest valid_from <= start."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from fleet import tariffs
from tests.factories import TariffFactory, ZoneFactory

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUL = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def paris():
    zone = ZoneFactory()
    TariffFactory(zone=zone, valid_from=JAN, unlock_fee=Decimal("1.00"))
    TariffFactory(zone=zone, valid_from=JUL, unlock_fee=Decimal("2.00"))
    TariffFactory(zone=zone, plan="premium", valid_from=JAN, unlock_fee=Decimal("0.00"))
    TariffFactory(zone=ZoneFactory(code="lyon"), valid_from=JAN, unlock_fee=Decimal("9.00"))
    return zone


@pytest.mark.parametrize(
    ("at", "fee"),
    [
        (datetime(2026, 3, 1, tzinfo=UTC), Decimal("1.00")),
        (JUL, Decimal("2.00")),  # valid_from itself is in force
        (datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC), Decimal("1.00")),
    ],
    ids=["between", "at-valid-from", "last-second-before"],
)
def test_the_latest_tariff_not_after_the_start_is_in_force(paris, at, fee):
    assert tariffs.tariff_in_force(zone=paris, plan="standard", at=at).unlock_fee == fee


def test_the_members_plan_decides(paris):
    assert tariffs.tariff_in_force(zone=paris, plan="premium", at=JUL).unlock_fee == 0


def test_before_any_tariff_there_is_none_in_force(paris):
    with pytest.raises(tariffs.NoTariff) as refused:
        tariffs.tariff_in_force(zone=paris, plan="standard", at=datetime(2025, 12, 31, tzinfo=UTC))

    assert refused.value.code == "no_tariff"


def test_a_stored_tariff_converts_to_the_pricing_core(paris):
    stored = tariffs.tariff_in_force(zone=paris, plan="standard", at=JUL)

    pure = tariffs.to_pricing_tariff(stored)

    assert pure.time_zone == "Europe/Paris"
    assert [band.starts_at for band in pure.bands] == [time(7, 0), time(22, 0)]
    assert pure.daily_cap == Decimal("45.00")
