"""A NUL character never reaches a query: PostgreSQL refuses text holding one (a 500 before).

``GET /api/invoices/PAR%00/`` and the like raised ``psycopg.DataError`` on PostgreSQL. A NUL
in a path is a 404 (no object can be named so), anywhere else a 400 ``nul_character``. These
tests run on both backends; on PostgreSQL they are the ones that used to fail.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import client_for, staff
from tests.factories import UserFactory, ZoneFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def as_role(role: str):
    client = client_for(staff(role))
    client.raise_request_exception = False
    return client


@pytest.fixture
def invoice():
    return issue(UserFactory().pk)


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("finance", "get", "/api/invoices/PAR%00/"),
        ("finance", "post", "/api/invoices/PAR%00/credit-notes/"),
        ("fleet", "get", "/api/vehicles/AB%00/"),
        ("fleet", "get", "/api/zones/paris%00/"),
        ("finance", "get", "/api/invoices/%00"),
    ],
    ids=["invoice", "credit-note", "vehicle", "zone", "no-trailing-slash"],
)
def test_a_nul_in_a_path_is_a_json_404(debug, invoice, role, method, path):
    client = as_role(role)

    if method == "post":
        response = client.post(path, {"amount": "1.00", "reason": "x"}, format="json")
    else:
        response = client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("role", "path", "query"),
    [
        ("finance", "/api/invoices/", "series=PAR%00"),
        ("finance", "/api/invoices/export/", "series=PAR%00"),
        ("finance", "/api/audit/sequences/", "series=PAR%00"),
        ("fleet", "/api/vehicles/", "zone=paris%00"),
        ("fleet", "/api/tariffs/", "plan%00=standard"),
    ],
    ids=["invoice-list", "export", "audit", "vehicle-list", "in-a-name"],
)
def test_a_nul_in_a_query_string_is_refused(debug, invoice, role, path, query):
    response = as_role(role).get(f"{path}?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


def test_a_nul_in_a_json_value_is_refused_before_it_reaches_the_database(debug):
    zone = ZoneFactory()

    response = as_role("fleet").post(
        "/api/vehicles/", {"plate": "AB-\u0000-CD", "zone": zone.code}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


def test_a_nul_in_an_idempotency_key_is_refused(debug, invoice):
    response = as_role("finance").post(
        f"/api/invoices/{invoice.number}/credit-notes/",
        {"amount": "1.00", "reason": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="key\x00",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


def test_the_admin_audit_of_a_series_with_a_nul_names_it_unknown(invoice):
    client = Client(raise_request_exception=False)
    client.force_login(staff("finance"))

    response = client.get("/admin/billing/invoice/audit/", {"series": "PAR\x00"})

    assert response.status_code == 200
    assert "was ever issued in series" in response.content.decode()
