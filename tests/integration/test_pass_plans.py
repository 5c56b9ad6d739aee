"""A subscription covering a rental's start prices the rental under the pass's plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from fleet import passes
from rentals import lifecycle
from tests.factories import MemberFactory, TariffFactory, UserFactory, VehicleFactory, ZoneFactory

pytestmark = pytest.mark.django_db

SOLD_AT = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
# 1 February 2026, 00:00 in Paris: the subscription's first instant.
STARTS = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def paris():
    zone = ZoneFactory()
    TariffFactory(zone=zone)  # standard: unlock 1.00, 0.35 a minute by day, 0.20 at night
    TariffFactory(
        zone=zone, plan="pass", unlock_fee=Decimal("0.00"),
        bands=[(time(0), Decimal("0.10"))],
    )  # fmt: skip
    return zone


@pytest.fixture
def product(paris):
    return passes.publish_pass(
        zone=paris, code="monthly", label="Paris monthly pass", monthly_price=Decimal("19.90"),
        plan="pass", now=SOLD_AT,
    )  # fmt: skip


def subscribed_member(product):
    member = MemberFactory()
    passes.subscribe(
        member=member, product=product, start_date=date(2026, 2, 1),
        subscribed_by_id=UserFactory().pk, now=SOLD_AT,
    )  # fmt: skip
    return member


def rent(member, zone, started_at, minutes=20):
    plate = VehicleFactory(zone=zone).plate
    rental = lifecycle.start_rental(member=member, plate=plate, started_at=None, now=started_at)
    return lifecycle.end_rental(
        member=member,
        rental_id=rental.pk,
        ended_at=None,
        now=started_at + timedelta(minutes=minutes),
    )


@pytest.mark.parametrize(
    ("offset", "plan", "total"),
    [(-SECOND, "standard", "5.00"), (SECOND, "pass", "2.00")],
    ids=["one-second-before-the-subscription", "one-second-after-it-starts"],
)
def test_a_pass_gives_its_plan_to_a_rental_starting_one_second_after_it_starts_not_before(
    paris, product, offset, plan, total
):
    member = subscribed_member(product)

    rental = rent(member, paris, STARTS + offset)

    assert rental.tariff.plan == plan
    # 20 night minutes: 1.00 + 20 x 0.20 = 5.00 under the standard plan; 20 x 0.10 = 2.00.
    assert rental.invoice.total == Decimal(total)


def test_the_first_instant_of_the_subscription_is_covered(paris, product):
    assert rent(subscribed_member(product), paris, STARTS).tariff.plan == "pass"


def test_a_quote_is_priced_under_the_pass_too(paris, product):
    member = subscribed_member(product)
    plate = VehicleFactory(zone=paris).plate

    quote = lifecycle.quote_rental(
        member=member, plate=plate, started_at=STARTS + SECOND,
        ended_at=STARTS + SECOND + timedelta(minutes=20), now=STARTS,
    )  # fmt: skip

    assert quote.charge.total == Decimal("2.00")


def test_after_a_cancellation_the_period_end_gives_the_members_own_plan_back(paris, product):
    member = subscribed_member(product)
    (subscription,) = member.subscriptions.all()
    cancelled = passes.cancel_subscription(
        subscription_id=subscription.pk, now=STARTS + timedelta(days=3), member=member
    )
    # Ends at 1 March 00:00 in Paris, half-open: the end itself is no longer covered.
    assert cancelled.ends_at == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)

    inside = rent(member, paris, cancelled.ends_at - SECOND)
    after = rent(member, paris, cancelled.ends_at)

    assert (inside.tariff.plan, after.tariff.plan) == ("pass", "standard")


def test_a_pass_of_another_zone_does_not_change_this_zones_plan(paris, product):
    member = subscribed_member(product)
    lyon = ZoneFactory(code="lyon")
    TariffFactory(zone=lyon)

    assert rent(member, lyon, STARTS + SECOND).tariff.plan == "standard"
