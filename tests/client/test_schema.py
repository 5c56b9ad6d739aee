"""The schema as a client generator reads it: clean names, typed instants, typed refusals."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from api import fields
from tests.client.conftest import write_schema

pytestmark = pytest.mark.django_db

# Local clock times of a tariff's bands ("07:00"), not instants.
CLOCK_TIMES = {"starts_at", "band_starts_at"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for route, path in schema["paths"].items():
        for method, operation in path.items():
            yield route, method, operation


def test_no_component_name_doubles_the_request_suffix(schema):
    doubled = [name for name in schema["components"]["schemas"] if "RequestRequest" in name]

    assert doubled == []
    assert {"QuoteRequest", "StartRequest", "EndRequest", "CreditNoteRequest"} <= set(
        schema["components"]["schemas"]
    )


def test_no_schema_inherits_the_description_of_the_strict_base_serializers(schema):
    text = json.dumps(schema)

    for base in (fields.StrictSerializer, fields.StrictModelSerializer):
        assert base.__doc__.split(":")[0] not in text


def test_every_instant_a_response_shows_is_a_date_time(schema):
    untyped = [
        f"{name}.{prop}"
        for name, component in schema["components"]["schemas"].items()
        if not name.endswith("Request")
        for prop, spec in component.get("properties", {}).items()
        if (prop.endswith("_at") or prop.endswith("_at_local")) and prop not in CLOCK_TIMES
        if spec.get("format") != "date-time"
    ]

    assert untyped == []


def test_the_token_endpoint_is_public_and_takes_one_json_body(schema):
    operation = schema["paths"]["/api/auth/token/"]["post"]

    assert "security" not in operation and "security" not in schema
    assert operation["requestBody"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/AuthTokenRequest"}}
    }


def test_the_token_endpoint_refuses_a_form_post(anonymous_client, member):
    response = anonymous_client.post(
        "/api/auth/token/", {"username": member.user.username, "password": "x"}
    )

    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_every_refusal_is_typed_with_a_required_code(schema):
    components = schema["components"]["schemas"]
    assert {"detail", "code"} <= set(components["Error"]["required"])
    assert {"$ref": "#/components/schemas/Error"} in components["BadRequest"]["anyOf"]
    shapes = {
        (status, response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1])
        for _, _, operation in operations(schema)
        for status, response in operation["responses"].items()
        if status.startswith("4")
    }

    assert {shape for status, shape in shapes if status == "400"} == {"BadRequest"}
    assert {shape for status, shape in shapes if status != "400"} == {"Error"}


def test_every_writing_post_declares_the_idempotent_replayed_header(schema):
    undeclared = [
        f"{route} {status}"
        for route, method, operation in operations(schema)
        if method == "post" and route != "/api/auth/token/"
        for status, response in operation["responses"].items()
        if "Idempotent-Replayed" not in response.get("headers", {})
    ]

    assert undeclared == []
    assert schema["components"]["headers"]["Idempotent-Replayed"]["schema"]["enum"] == ["true"]


def test_the_schema_validates_without_a_single_warning(tmp_path):
    write_schema(tmp_path / "schema.json")  # manage.py spectacular --validate --fail-on-warn

    assert json.loads((tmp_path / "schema.json").read_text())["openapi"].startswith("3.")
