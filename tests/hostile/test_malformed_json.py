"""Bodies Python's json module accepts, or chokes on, are refused with a stable code.

Found by outside testing: ``[`` x 100,000 was a 500 (RecursionError), a lone surrogate as
an unknown key was a 500 (UnicodeEncodeError when the refusal echoed it), duplicate keys let
the last one win. Each is a 400 JSON answer now, with DEBUG on and off, on every backend.
"""

from __future__ import annotations

import pytest

from tests.conftest import client_for, staff
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def car():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    return VehicleFactory(zone=zone)


def post_raw(user, path: str, body: bytes, content_type: str = "application/json"):
    client = client_for(user)
    client.raise_request_exception = False
    return client.generic("POST", path, body, content_type=content_type)


def refusal(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()


@pytest.mark.parametrize("opening", ["[", '{"a":'], ids=["arrays", "objects"])
def test_json_nested_100000_deep_is_refused_as_too_deep(debug, car, opening):
    body = (opening * 100_000).encode()

    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "json_too_deep"


def test_json_nested_past_the_limit_but_within_the_stack_is_refused_too(debug, car):
    body = ("[" * 50 + "]" * 50).encode()

    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "json_too_deep"


@pytest.mark.parametrize(
    "body",
    [
        b'{"vehicle": "AB-123-CD", "\\ud800": 1}',
        b'{"vehicle": "AB-\\udfff-CD"}',
        b'{"vehicle": "AB-123-CD", "started_at": ["\\ud83d"]}',
    ],
    ids=["as-a-key", "in-a-value", "in-a-list"],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_refused(debug, car, body):
    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "lone_surrogate"


def test_a_surrogate_pair_is_text_and_accepted(debug, car):
    body = b'{"vehicle": "\\ud83d\\ude97"}'  # an escaped emoji: a valid pair

    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "unknown_vehicle"


def test_a_duplicate_key_is_refused_instead_of_the_last_one_winning(debug):
    zone = ZoneFactory()
    body = b'{"plate": "AB-001-CD", "zone": "elsewhere", "zone": "%s"}' % zone.code.encode()

    response = post_raw(staff("fleet"), "/api/vehicles/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "duplicate_key"
    assert "zone" in response.json()["detail"]


def test_a_duplicate_key_in_a_nested_object_is_refused(debug):
    zone = ZoneFactory()
    body = (
        b'{"zone": "%s", "plan": "x", "valid_from": "2026-01-01T00:00:00+01:00",'
        b' "bands": [{"starts_at": "07:00", "per_minute": "0.10", "per_minute": "0.90"}],'
        b' "unlock_fee": "1.00", "minimum_minutes": 0, "daily_cap": null}'
    ) % zone.code.encode()

    response = post_raw(staff("fleet"), "/api/tariffs/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "duplicate_key"


@pytest.mark.parametrize(
    "body",
    [b'{"vehicle": "AB-\xff-CD"}', b'{"vehicle": "\xc3"}', b"\xef\xbb\xbf\xfe{}"],
    ids=["invalid-byte", "truncated-sequence", "garbage-after-bom"],
)
def test_a_body_that_is_not_utf_8_is_refused(debug, car, body):
    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "invalid_utf8"


def test_a_charset_other_than_utf_8_is_unsupported(debug, car):
    response = post_raw(
        MemberFactory().user,
        "/api/quotes/",
        '{"vehicle": "AB-é-CD"}'.encode("latin-1"),
        content_type="application/json; charset=latin-1",
    )

    assert response.status_code == 415
    assert refusal(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(debug, car, constant):
    body = b'{"vehicle": "AB-123-CD", "started_at": %s}' % constant

    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "parse_error"


def test_an_integer_past_pythons_digit_limit_is_a_parse_error(debug, car):
    body = b'{"vehicle": "AB-123-CD", "started_at": ' + b"9" * 5000 + b"}"

    response = post_raw(MemberFactory().user, "/api/quotes/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == "parse_error"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"username": "\\ud800", "password": "x"}', "lone_surrogate"),
        (b'{"username": "a", "username": "b", "password": "x"}', "duplicate_key"),
        (b"[" * 10_000, "json_too_deep"),
        (b'{"username": "a\\u0000", "password": "x"}', "nul_character"),
    ],
    ids=["surrogate", "duplicate", "deep", "nul"],
)
def test_the_token_endpoint_parses_as_strictly_as_the_rest(debug, body, code):
    response = post_raw(None, "/api/auth/token/", body)

    assert response.status_code == 400
    assert refusal(response)["code"] == code


def test_the_token_endpoint_takes_json_only(debug):
    response = post_raw(
        None,
        "/api/auth/token/",
        b"username=a&password=b",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert refusal(response)["code"] == "unsupported_media_type"
