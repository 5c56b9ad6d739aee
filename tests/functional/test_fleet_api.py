"""Fleet staff manage zones, vehicles, tariffs and members; bad input gets clear 400s."""

from __future__ import annotations

import json

import pytest

from fleet.models import Member, Tariff, Vehicle
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ZONE = {
    "code": "lyon", "name": "Lyon", "time_zone": "Europe/Paris", "currency": "EUR",
    "vat_rate": "0.20", "invoice_prefix": "LYO",
}  # fmt: skip
TARIFF = {
    "zone": "paris", "plan": "standard", "valid_from": "2026-01-01T00:00:00+01:00",
    "bands": [{"starts_at": "07:00", "per_minute": "0.35"},
              {"starts_at": "22:00", "per_minute": "0.20"}],
    "unlock_fee": "1.00", "minimum_minutes": 0, "daily_cap": "45.00",
}  # fmt: skip


def test_fleet_creates_a_zone_and_gets_it_back(fleet_client):
    response = fleet_client.post("/api/zones/", ZONE, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["time_zone"] == "Europe/Paris"
    assert fleet_client.get("/api/zones/lyon/").json()["invoice_prefix"] == "LYO"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Europe/Lyon"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"currency": "XYZ"}, "currency"),
        ({"vat_rate": "-0.1"}, "vat_rate"),
        ({"invoice_prefix": "par"}, "invoice_prefix"),
    ],
    ids=["unknown-zone", "path-as-zone", "unknown-currency", "negative-vat", "lowercase-prefix"],
)
def test_a_bad_zone_is_refused_with_a_400_naming_the_field(fleet_client, change, field):
    response = fleet_client.post("/api/zones/", {**ZONE, **change}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body or body.get("field") == field


def test_fleet_publishes_a_tariff(fleet_client, zone):
    response = fleet_client.post("/api/tariffs/", TARIFF, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bands"] == TARIFF["bands"]
    assert body["daily_cap"] == "45.00"
    assert body["valid_from"] == "2025-12-31T23:00:00Z"


def test_a_tariff_may_have_no_daily_cap(fleet_client, zone):
    response = fleet_client.post("/api/tariffs/", {**TARIFF, "daily_cap": None}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["daily_cap"] is None


@pytest.mark.parametrize(
    ("change", "expected_code"),
    [
        (
            {
                "bands": [
                    {"starts_at": "22:00", "per_minute": "0.20"},
                    {"starts_at": "07:00", "per_minute": "0.35"},
                ]
            },
            "invalid_tariff",
        ),
        (
            {
                "bands": [
                    {"starts_at": "07:00", "per_minute": "0.35"},
                    {"starts_at": "07:00", "per_minute": "0.20"},
                ]
            },
            "invalid_tariff",
        ),
        ({"bands": [{"starts_at": "07:00", "per_minute": "-0.35"}]}, None),
        ({"bands": [{"starts_at": "07:00", "per_minute": 0.35}]}, None),
        ({"bands": []}, None),
        ({"unlock_fee": "-1.00"}, None),
        ({"unlock_fee": "123456789"}, None),
        ({"bands": [{"starts_at": "07:00", "per_minute": "1000000"}]}, None),
        ({"bands": [{"starts_at": "07:00:30", "per_minute": "0.35"}]}, None),
        ({"valid_from": "2026-01-01T00:00:00"}, None),
        ({"zone": "nowhere"}, None),
    ],
    ids=[
        "unsorted-bands",
        "duplicate-start",
        "negative-rate",
        "float-rate",
        "no-bands",
        "negative-fee",
        "huge-fee",
        "huge-rate",
        "band-start-with-seconds",
        "naive-valid-from",
        "unknown-zone",
    ],
)
def test_a_bad_tariff_is_refused_with_a_clear_400(fleet_client, zone, change, expected_code):
    response = fleet_client.post("/api/tariffs/", {**TARIFF, **change}, format="json")

    assert response.status_code == 400, response.content
    if expected_code:
        assert response.json()["code"] == expected_code
    assert not Tariff.objects.exists()


@pytest.mark.parametrize("missing", ["zone", "plan", "valid_from", "bands", "unlock_fee"])
def test_a_tariff_missing_a_field_names_it(fleet_client, zone, missing):
    payload = {key: value for key, value in TARIFF.items() if key != missing}

    response = fleet_client.post("/api/tariffs/", payload, format="json")

    assert response.status_code == 400
    assert missing in response.json()


def test_fleet_creates_a_vehicle_and_filters_available_ones(fleet_client, zone):
    created = fleet_client.post(
        "/api/vehicles/", {"plate": "ZZ-999-ZZ", "zone": "paris"}, format="json"
    )

    assert created.status_code == 201, created.content
    listed = fleet_client.get("/api/vehicles/?zone=paris&available=true").json()["results"]
    assert [vehicle["plate"] for vehicle in listed] == ["ZZ-999-ZZ"]
    assert fleet_client.get("/api/vehicles/?available=false").json()["results"] == []


def test_fleet_registers_a_member_who_then_gets_a_token(fleet_client, anonymous_client):
    response = fleet_client.post(
        "/api/members/",
        {
            "username": "carla",
            "password": "a-long-test-password",
            "plan": "standard",
            "billing_name": "Carla Dupont",
            "billing_address": "5 quai de Seine, Paris",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert "password" not in response.json()
    token = anonymous_client.post(
        "/api/auth/token/",
        {"username": "carla", "password": "a-long-test-password"},
        format="json",
    )
    assert token.status_code == 200
    assert len(token.json()["token"]) == 40
    assert Member.objects.get().billing_name == "Carla Dupont"


def test_a_weak_password_or_taken_username_is_refused(fleet_client, member):
    weak = fleet_client.post(
        "/api/members/",
        {
            "username": "dan",
            "password": "123",
            "plan": "standard",
            "billing_name": "D",
            "billing_address": "x",
        },
        format="json",
    )
    taken = fleet_client.post(
        "/api/members/",
        {
            "username": member.user.username,
            "password": "a-long-test-password",
            "plan": "standard",
            "billing_name": "D",
            "billing_address": "x",
        },
        format="json",
    )

    assert (weak.status_code, weak.json()["code"]) == (400, "weak_password")
    assert (taken.status_code, taken.json()["code"]) == (409, "username_taken")


def test_a_plate_is_stored_in_upper_case(fleet_client, zone):
    response = fleet_client.post(
        "/api/vehicles/", {"plate": "ab-123-cd", "zone": "paris"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["plate"] == "AB-123-CD"
    assert fleet_client.get("/api/vehicles/AB-123-CD/").status_code == 200


@pytest.mark.parametrize(
    "plate",
    ["'; DROP TABLE x;--", "", " AB-123-CD", "AB--123", "AB_123", "ÄB-123", "A" * 21],
    ids=["sql", "empty", "leading-space", "double-dash", "underscore", "non-ascii", "21-chars"],
)
def test_a_plate_of_another_shape_is_refused_with_invalid_plate(fleet_client, zone, plate):
    response = fleet_client.post("/api/vehicles/", {"plate": plate, "zone": "paris"}, format="json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert (response.json()["code"], response.json()["field"]) == ("invalid_plate", "plate")
    assert not Vehicle.objects.exists()


def test_a_plate_with_a_nul_character_is_refused_as_json_before_any_query(fleet_client, zone):
    from fleet import vehicles

    response = fleet_client.post(
        "/api/vehicles/", {"plate": "AB\u0000123", "zone": "paris"}, format="json"
    )

    # The edge refuses NUL in any JSON body (PostgreSQL cannot store it); the use case
    # would refuse it too, for callers that do not come through the edge.
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "nul_character"
    with pytest.raises(vehicles.InvalidPlate):
        vehicles.normalise_plate("AB\x00123")
    assert not Vehicle.objects.exists()


def test_a_plate_that_is_not_a_string_is_a_field_error(fleet_client, zone):
    response = fleet_client.post("/api/vehicles/", {"plate": 123, "zone": "paris"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "plate": ['Send the plate as a string, e.g. "AB-123-CD".'],
        "code": "invalid",
    }


def test_a_plate_taken_in_another_case_is_a_409(fleet_client, vehicle):
    response = fleet_client.post(
        "/api/vehicles/", {"plate": vehicle.plate.lower(), "zone": "paris"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "vehicle_exists"
    assert Vehicle.objects.count() == 1


def test_the_plates_of_the_demo_and_of_the_tests_have_the_shape_of_a_plate():
    from pathlib import Path

    from fleet import vehicles
    from tests.factories import VehicleFactory

    rows = json.loads((Path(__file__).parents[2] / "fixtures" / "demo.json").read_text())
    plates = [row["fields"]["plate"] for row in rows if row["model"] == "fleet.vehicle"]
    plates += [VehicleFactory.build().plate, "ZZ-999-ZZ", "FI-0001"]

    assert len(plates) == 7
    assert [vehicles.normalise_plate(plate) for plate in plates] == plates


def test_the_schema_publishes_the_shape_of_a_plate(client):
    schema = client.get("/api/schema/?format=json").json()

    plate = schema["components"]["schemas"]["VehicleRequest"]["properties"]["plate"]
    assert (plate["maxLength"], plate["pattern"]) == (20, r"^[A-Za-z0-9]+(?:[ -][A-Za-z0-9]+)*$")


def test_a_members_id_is_the_member_of_their_invoices(
    fleet_client, finance_client, vehicle, tariff
):
    # Staff accounts come first, so account ids and profile ids differ in this database.
    created = fleet_client.post(
        "/api/members/",
        {
            "username": "erin",
            "password": "a-long-test-password",
            "plan": "standard",
            "billing_name": "Erin",
            "billing_address": "Paris",
        },
        format="json",
    ).json()
    member = Member.objects.get(user__username="erin")
    member_client = client_for(member.user)
    rental = member_client.post("/api/rentals/", {"vehicle": vehicle.plate}, format="json").json()
    ended = member_client.post(f"/api/rentals/{rental['id']}/end/", {}, format="json").json()

    assert member.pk != member.user_id
    assert created["id"] == ended["invoice"]["member"] == member.user_id
    assert fleet_client.get(f"/api/members/{created['id']}/").json()["username"] == "erin"
    listed = finance_client.get("/api/invoices/", {"member": created["id"]}).json()["results"]
    assert [invoice["number"] for invoice in listed] == [ended["invoice"]["number"]]
