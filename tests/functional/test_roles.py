"""Role boundaries: 401 without credentials, 403 for the wrong role, 404 for others' objects."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

FLEET_ENDPOINTS = ["/api/zones/", "/api/vehicles/", "/api/tariffs/", "/api/members/"]


@pytest.mark.parametrize(
    "path", [*FLEET_ENDPOINTS, "/api/rentals/", "/api/invoices/", "/api/audit/sequences/"]
)
def test_anonymous_requests_get_401(anonymous_client, path):
    assert anonymous_client.get(path).status_code == 401


@pytest.mark.parametrize("path", [*FLEET_ENDPOINTS, "/api/audit/sequences/"])
def test_a_member_cannot_read_fleet_or_audit_endpoints(member_client, path):
    assert member_client.get(path).status_code == 403


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (
            "/api/zones/",
            {
                "code": "x",
                "name": "x",
                "time_zone": "UTC",
                "currency": "EUR",
                "vat_rate": "0.2",
                "invoice_prefix": "XX",
            },
        ),
        ("/api/vehicles/", {"plate": "A", "zone": "paris"}),
        ("/api/invoices/PAR-2026-000001/credit-notes/", {"amount": "1.00", "reason": "x"}),
        ("/api/rentals/", {"vehicle": "A"}),
        ("/api/quotes/", {"vehicle": "A"}),
    ],
)
def test_an_auditor_cannot_write(auditor_client, path, payload):
    assert auditor_client.post(path, payload, format="json").status_code == 403


@pytest.mark.parametrize("path", ["/api/rentals/", "/api/quotes/"])
def test_staff_who_are_not_members_cannot_use_member_endpoints(fleet_client, path):
    assert fleet_client.post(path, {"vehicle": "A"}, format="json").status_code == 403


def test_finance_and_auditors_can_read_the_audit_report(finance_client, auditor_client):
    assert finance_client.get("/api/audit/sequences/").status_code == 200
    assert auditor_client.get("/api/audit/sequences/").status_code == 200


def test_fleet_cannot_read_invoices(fleet_client):
    assert fleet_client.get("/api/invoices/").status_code == 403


def test_a_superuser_holds_every_staff_role(db):
    from tests.conftest import client_for
    from tests.factories import UserFactory

    admin = client_for(UserFactory(is_superuser=True, is_staff=True))

    for path in [*FLEET_ENDPOINTS, "/api/invoices/", "/api/audit/sequences/"]:
        assert admin.get(path).status_code == 200, path
