"""The admin shows the fee catalogue and the passes read-only: they are written by use cases.

Publishing goes through ``POST /api/fees/`` and ``POST /api/passes/`` (``fleet.fees`` and
``fleet.passes``), whose validation the admin's model forms would skip; a fee is changed by
publishing a new version, a pass by putting a new one on sale.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import RequestFactory

from fleet import fees, passes
from fleet.admin import FeeAdmin, PassProductAdmin
from fleet.models import Fee, PassProduct
from tests.factories import TariffFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


def test_fees_are_shown_but_never_added_changed_or_deleted_in_the_admin(superuser_request):
    fee = fees.publish_fee(
        zone=ZoneFactory(), code="cleaning", label="Cleaning", unit_price=Decimal("25.00"),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC), now=NOW,
    )  # fmt: skip
    fee_admin = FeeAdmin(Fee, admin.site)

    assert fee_admin.has_view_permission(superuser_request, fee)
    assert not fee_admin.has_add_permission(superuser_request)
    assert not fee_admin.has_change_permission(superuser_request, fee)
    assert not fee_admin.has_delete_permission(superuser_request, fee)


def test_passes_are_shown_but_never_added_changed_or_deleted_in_the_admin(superuser_request):
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    product = passes.publish_pass(
        zone=zone, code="monthly", label="Monthly", monthly_price=Decimal("19.90"),
        plan="standard", now=NOW,
    )  # fmt: skip
    pass_admin = PassProductAdmin(PassProduct, admin.site)

    assert pass_admin.has_view_permission(superuser_request, product)
    assert not pass_admin.has_add_permission(superuser_request)
    assert not pass_admin.has_change_permission(superuser_request, product)
    assert not pass_admin.has_delete_permission(superuser_request, product)
