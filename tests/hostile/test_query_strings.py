"""Query strings are read strictly: a malformed, unknown or repeated parameter is a 400.

Before: ``?member=99999999999999999999999`` was a 500 on SQLite (OverflowError), ``?member=2.5``
filtered on member 2, ``?available=maybe``, ``?page_size=0`` and a misspelt filter were
ignored (every row came back), and a forged cursor position was a 500.
"""

from __future__ import annotations

from base64 import b64encode

import pytest

from tests.conftest import client_for, staff
from tests.factories import UserFactory, VehicleFactory, ZoneFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db


def as_role(role: str):
    client = client_for(staff(role))
    client.raise_request_exception = False
    return client


@pytest.fixture
def invoices():
    user = UserFactory()
    return [issue(user.pk), issue(user.pk), issue(UserFactory().pk)]


def test_the_member_filter_still_filters(invoices):
    member = invoices[0].member_id

    response = as_role("finance").get("/api/invoices/", {"member": str(member)})

    assert response.status_code == 200
    assert {row["member"] for row in response.json()["results"]} == {member}


@pytest.mark.parametrize(
    "value",
    ["99999999999999999999999", "9223372036854775808", "2.5", "2.0", "-1", "0", "abc", "1e3",
     " 1", "+1", "\u0661"],  # the last: an Arabic-Indic one
)  # fmt: skip
def test_a_member_filter_that_is_not_an_id_is_refused(invoices, value):
    response = as_role("finance").get("/api/invoices/", {"member": value})

    assert response.status_code == 400
    assert list(response.json()) == ["member", "code"]


def test_the_largest_id_is_accepted(invoices):
    response = as_role("finance").get("/api/invoices/", {"member": str(2**63 - 1)})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("finance", "/api/invoices/"),
        ("fleet", "/api/vehicles/"),
        ("fleet", "/api/tariffs/"),
        ("fleet", "/api/zones/"),
        ("fleet", "/api/members/"),
        ("finance", "/api/audit/sequences/"),
        ("finance", "/api/invoices/export/"),
    ],
)
def test_an_unknown_query_parameter_is_refused_not_ignored(invoices, role, path):
    response = as_role(role).get(path, {"seires": "PAR-2026"})

    assert response.status_code == 400
    assert response.json() == {"seires": ["Unknown query parameter."], "code": "unknown_field"}


def test_an_unknown_query_parameter_on_the_rentals_list_is_refused(member_client):
    response = member_client.get("/api/rentals/", {"status": "open"})

    assert response.status_code == 400
    assert response.json() == {"status": ["Unknown query parameter."], "code": "unknown_field"}


@pytest.mark.parametrize(
    ("role", "path"),
    [("finance", "/api/invoices/"), ("finance", "/api/invoices/export/")],
)
def test_a_filter_given_twice_is_refused_rather_than_the_last_winning(invoices, role, path):
    response = as_role(role).get(f"{path}?series=PAR-2026&series=LYO-2026")

    assert response.status_code == 400
    assert response.json() == {"series": ["Given more than once."], "code": "repeated_parameter"}


def test_the_format_parameter_is_not_an_unknown_filter(invoices):
    response = as_role("finance").get("/api/invoices/", {"format": "json"})

    assert response.status_code == 200


@pytest.mark.parametrize("value", ["maybe", "yes", "1", "True", "TRUE"])
def test_available_must_be_true_or_false(value):
    VehicleFactory(zone=ZoneFactory())

    response = as_role("fleet").get("/api/vehicles/", {"available": value})

    assert response.status_code == 400
    assert list(response.json()) == ["available", "code"]


def test_an_empty_available_means_no_filter():
    VehicleFactory(zone=ZoneFactory())

    response = as_role("fleet").get("/api/vehicles/", {"available": ""})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize("value", ["0", "-1", "abc", "501", "1.5", " 5", "+5"])
@pytest.mark.parametrize(
    ("role", "path"), [("finance", "/api/invoices/"), ("fleet", "/api/zones/")]
)
def test_a_page_size_outside_1_to_500_is_refused(invoices, role, path, value):
    response = as_role(role).get(path, {"page_size": value})

    assert response.status_code == 400
    assert response.json() == {
        "page_size": ["Must be a whole number from 1 to 500."],
        "code": "invalid_page_size",
    }


@pytest.mark.parametrize(("value", "rows"), [("1", 1), ("500", 3), ("", 3)])
def test_a_page_size_from_1_to_500_or_none_pages(invoices, value, rows):
    response = as_role("finance").get("/api/invoices/", {"page_size": value})

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        b64encode(b"p=not-an-instant").decode(),
        b64encode(b"o=1&p=2026-13-45 99:00:00%2B00:00").decode(),
        b64encode(b"r=x").decode(),
    ],
    ids=["garbage", "position-not-an-instant", "impossible-instant", "bad-reverse"],
)
@pytest.mark.parametrize(
    ("role", "path"), [("finance", "/api/invoices/"), ("fleet", "/api/zones/")]
)
def test_a_forged_cursor_is_a_json_404(invoices, role, path, cursor):
    response = as_role(role).get(path, {"cursor": cursor})

    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor", "code": "not_found"}


def test_a_cursor_made_by_the_server_pages_on(invoices):
    client = as_role("finance")
    first = client.get("/api/invoices/", {"page_size": "2"}).json()

    second = client.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


def test_more_query_fields_than_django_reads_is_a_json_400():
    query = "&".join(f"f{n}=1" for n in range(1001))

    response = as_role("fleet").get(f"/api/zones/?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
