"""The admin shows a charged fee and a subscribed pass read-only; unused ones can be corrected."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory

from fleet import fees, passes
from fleet.admin import FeeAdmin, PassProductAdmin
from fleet.models import Fee, PassProduct
from rentals import charges as member_charges
from tests.factories import MemberFactory, TariffFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


def test_a_fee_is_editable_until_a_member_is_charged_it(superuser_request):
    zone = ZoneFactory()
    fee = fees.publish_fee(
        zone=zone, code="cleaning", label="Cleaning", unit_price=Decimal("25.00"),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC), now=NOW,
    )  # fmt: skip
    fee_admin = FeeAdmin(Fee, admin.site)
    assert fee_admin.has_change_permission(superuser_request, fee)

    member_charges.charge_member(
        member=MemberFactory(), zone=zone, lines=[member_charges.CatalogueFee(code="cleaning")],
        charged_by_id=superuser_request.user.pk, now=NOW,
    )  # fmt: skip

    assert not fee_admin.has_change_permission(superuser_request, fee)
    assert not fee_admin.has_delete_permission(superuser_request, fee)
    assert fee_admin.has_view_permission(superuser_request, fee)


def test_a_pass_is_editable_until_someone_subscribes(superuser_request):
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    product = passes.publish_pass(
        zone=zone, code="monthly", label="Monthly", monthly_price=Decimal("19.90"),
        plan="standard", now=NOW,
    )  # fmt: skip
    pass_admin = PassProductAdmin(PassProduct, admin.site)
    assert pass_admin.has_change_permission(superuser_request, product)

    passes.subscribe(
        member=MemberFactory(), product=product, start_date=date(2026, 3, 2),
        subscribed_by_id=superuser_request.user.pk, now=NOW,
    )  # fmt: skip

    assert not pass_admin.has_change_permission(superuser_request, product)
    assert not pass_admin.has_delete_permission(superuser_request, product)
