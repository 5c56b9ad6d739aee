"""Filters appear in /api/schema/ typed as they are parsed, so generated clients send them right.

Before: ``?member=`` was typed ``number`` (django-filter's NumberFilter), so a generated client
took a float, and ``page_size`` had no bounds although values outside them are refused.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def parameters(schema, path: str) -> dict[str, dict]:
    return {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}


def test_the_invoice_member_filter_is_a_positive_64_bit_integer(schema):
    assert parameters(schema, "/api/invoices/")["member"] == {
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }


@pytest.mark.parametrize(
    "path", ["/api/invoices/", "/api/vehicles/", "/api/tariffs/", "/api/zones/", "/api/rentals/"]
)
def test_every_list_documents_its_page_size_bounds(schema, path):
    assert parameters(schema, path)["page_size"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 500,
    }


def test_the_vehicle_filters_are_typed(schema):
    vehicle = parameters(schema, "/api/vehicles/")

    assert vehicle["available"] == {"type": "boolean"}
    assert vehicle["zone"] == {"type": "string"}
    assert vehicle["status"]["enum"] == ["AVAILABLE", "MAINTENANCE", "RETIRED"]


def test_the_export_documents_its_406_and_the_audit_its_404(schema):
    export = schema["paths"]["/api/invoices/export/"]["get"]["responses"]
    audit = schema["paths"]["/api/audit/sequences/"]["get"]["responses"]

    assert list(export["406"]["content"]) == ["application/json"]
    assert list(export["200"]["content"]) == ["text/csv"]
    assert "404" in audit and "400" in audit
