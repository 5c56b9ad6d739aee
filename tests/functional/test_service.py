"""What load balancers, fleet staff in the admin and API clients rely on around the API."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.utils import OperationalError

from billing.models import CreditNote, Invoice
from fleet.models import Member, Tariff, Vehicle, Zone


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)

    response = client.get("/healthz")

    assert response.status_code == 503


@pytest.mark.parametrize("model", [Zone, Vehicle, Tariff, Member, Invoice, CreditNote])
def test_the_admin_registers_the_fleet_and_the_issued_documents(model):
    assert admin.site.is_registered(model)


@pytest.mark.django_db
def test_issued_documents_are_read_only_in_the_admin(rf):
    from tests.factories import UserFactory

    request = rf.get("/admin/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    for model in (Invoice, CreditNote):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


@pytest.mark.django_db
def test_every_tariff_is_read_only_in_the_admin_used_or_not(rf, tariff, member, vehicle):
    from datetime import UTC, datetime

    from rentals.models import Rental
    from tests.factories import TariffFactory, UserFactory

    request = rf.get("/admin/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    tariff_admin = admin.site._registry[Tariff]
    unused = TariffFactory(zone=tariff.zone, valid_from=datetime(2030, 1, 1, tzinfo=UTC))
    Rental.objects.create(
        member=member, vehicle=vehicle, tariff=tariff,
        started_at=datetime(2026, 6, 1, tzinfo=UTC), created_at=datetime(2026, 6, 1, tzinfo=UTC),
    )  # fmt: skip

    for each in (tariff, unused):
        assert not tariff_admin.has_change_permission(request, each)
        assert not tariff_admin.has_delete_permission(request, each)
    assert tariff_admin.has_add_permission(request)


@pytest.mark.django_db
def test_the_openapi_schema_is_served_and_the_docs_page_renders(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/rentals/{id}/end/" in schema.content
    assert docs.status_code == 200
