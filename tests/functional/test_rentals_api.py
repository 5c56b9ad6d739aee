"""Members' apps: start, end, quote; the DST stories; idempotency; refusals."""

from __future__ import annotations

import json

import pytest
import time_machine

from rentals.models import Rental

pytestmark = pytest.mark.django_db

FALL_BACK_NOW = "2026-10-25T03:00:00+01:00"  # after the Paris fall-back night
SPRING_NOW = "2026-03-29T12:00:00+02:00"


def start(client, vehicle, started_at, **headers):
    return client.post(
        "/api/rentals/",
        {"vehicle": vehicle.plate, "started_at": started_at},
        format="json",
        **headers,
    )


def end(client, rental_id, ended_at, **headers):
    return client.post(
        f"/api/rentals/{rental_id}/end/", {"ended_at": ended_at}, format="json", **headers
    )


@time_machine.travel(FALL_BACK_NOW, tick=False)
def test_paris_fall_back_2026_10_25_rental_from_0250_cest_to_0210_cet_bills_20_minutes(
    member_client, vehicle, tariff
):
    started = start(member_client, vehicle, "2026-10-25T02:50:00+02:00")
    assert started.status_code == 201, started.content
    assert started.json()["status"] == "open"
    assert started.json()["started_at"] == "2026-10-25T00:50:00Z"
    assert started.json()["started_at_local"] == "2026-10-25T02:50:00+02:00"

    ended = end(member_client, started.json()["id"], "2026-10-25T02:10:00+01:00")

    assert ended.status_code == 200, ended.content
    body = ended.json()
    assert body["minutes"] == 20
    # 20 night minutes at 0.20 plus the 1.00 unlock fee.
    assert body["total"] == "5.00"
    assert body["ended_at_local"] == "2026-10-25T02:10:00+01:00"
    assert body["invoice"]["total"] == "5.00"
    assert body["invoice"]["number"].startswith("PAR-2026-")
    assert sum(float(line["amount"]) for line in body["lines"]) == pytest.approx(5.0)


@time_machine.travel(FALL_BACK_NOW, tick=False)
def test_paris_fall_back_2026_10_25_wall_clock_0210_is_refused_as_ambiguous(
    member_client, vehicle, tariff
):
    response = start(member_client, vehicle, "2026-10-25T02:10:00")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "ambiguous_local_time"
    assert body["time_zone"] == "Europe/Paris"
    assert body["candidate_offsets"] == ["+02:00", "+01:00"]
    assert not Rental.objects.exists()


@time_machine.travel(SPRING_NOW, tick=False)
def test_paris_spring_forward_2026_03_29_wall_clock_0230_is_refused_as_nonexistent(
    member_client, vehicle, tariff
):
    response = start(member_client, vehicle, "2026-03-29T02:30:00")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "nonexistent_local_time"
    assert body["candidate_offsets"] == ["+01:00", "+02:00"]


@time_machine.travel(SPRING_NOW, tick=False)
def test_paris_spring_forward_2026_03_29_quote_from_0150_cet_to_0310_cest_is_20_minutes(
    member_client, vehicle, tariff
):
    response = member_client.post(
        "/api/quotes/",
        {
            "vehicle": vehicle.plate,
            "started_at": "2026-03-29T01:50:00+01:00",
            "ended_at": "2026-03-29T03:10:00+02:00",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["minutes"] == 20
    assert response.json()["total"] == "5.00"
    assert response.json()["currency"] == "EUR"
    assert not Rental.objects.exists()


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_wall_clock_input_is_read_in_the_vehicle_zone(member_client, vehicle, tariff):
    response = start(member_client, vehicle, "2026-06-01T11:00:00")

    assert response.status_code == 201
    assert response.json()["started_at"] == "2026-06-01T09:00:00Z"


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_omitted_instants_mean_the_server_time(member_client, vehicle, tariff):
    started = member_client.post("/api/rentals/", {"vehicle": vehicle.plate}, format="json")
    assert started.json()["started_at"] == "2026-06-01T10:00:00Z"

    ended = member_client.post(f"/api/rentals/{started.json()['id']}/end/", {}, format="json")

    assert ended.status_code == 200
    assert ended.json()["minutes"] == 0
    assert ended.json()["total"] == "1.00"


@time_machine.travel(FALL_BACK_NOW, tick=False)
def test_a_second_end_with_the_same_instant_returns_the_same_body_and_one_invoice(
    member_client, vehicle, tariff
):
    rental_id = start(member_client, vehicle, "2026-10-25T02:50:00+02:00").json()["id"]

    first = end(member_client, rental_id, "2026-10-25T02:10:00+01:00")
    again = end(member_client, rental_id, "2026-10-25T01:10:00Z")  # the same instant in UTC

    assert again.status_code == 200
    assert again.content == first.content
    assert Rental.objects.get().invoice.number == first.json()["invoice"]["number"]


@time_machine.travel(FALL_BACK_NOW, tick=False)
def test_a_second_end_with_another_instant_is_refused_as_already_ended(
    member_client, vehicle, tariff
):
    rental_id = start(member_client, vehicle, "2026-10-25T02:50:00+02:00").json()["id"]
    end(member_client, rental_id, "2026-10-25T02:10:00+01:00")

    response = end(member_client, rental_id, "2026-10-25T02:20:00+01:00")

    assert response.status_code == 409
    assert response.json()["code"] == "rental_already_ended"


@time_machine.travel(FALL_BACK_NOW, tick=False)
def test_an_end_before_the_start_is_refused_and_nothing_changes(member_client, vehicle, tariff):
    rental_id = start(member_client, vehicle, "2026-10-25T02:50:00+02:00").json()["id"]

    response = end(member_client, rental_id, "2026-10-25T02:40:00+02:00")

    assert response.status_code == 400
    assert response.json()["code"] == "ends_before_start"
    # Instants in error details are written like every instant the API gives: UTC with Z.
    assert (response.json()["started_at"], response.json()["ended_at"]) == (
        "2026-10-25T00:50:00Z",
        "2026-10-25T00:40:00Z",
    )
    assert Rental.objects.get().status == Rental.Status.OPEN


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"vehicle": "NO-SUCH-CAR", "started_at": "2026-06-01T10:00:00+02:00"}, "unknown_vehicle"),
        ({"vehicle": "{plate}", "started_at": "2026-06-01T13:00:00+02:00"}, "invalid_period"),
        ({"vehicle": "{plate}", "started_at": "yesterday"}, None),
        ({"vehicle": "{plate}", "started_at": "1899-06-01T10:00:00+02:00"}, None),
        ({"vehicle": "{plate}", "started_at": 1717228800}, None),
        ({"started_at": "2026-06-01T10:00:00+02:00"}, None),
    ],
    ids=[
        "unknown-vehicle",
        "future",
        "not-a-date",
        "out-of-range",
        "number",
        "missing-vehicle",
    ],
)
def test_malformed_starts_are_refused_with_400(member_client, vehicle, tariff, payload, code):
    payload = {
        key: value.format(plate=vehicle.plate) if isinstance(value, str) else value
        for key, value in payload.items()
    }

    response = member_client.post("/api/rentals/", payload, format="json")

    assert response.status_code == 400, response.content
    if code:
        assert response.json()["code"] == code
    assert not Rental.objects.exists()


def test_bad_json_is_a_400_not_a_500(member_client, vehicle, tariff):
    response = member_client.post(
        "/api/rentals/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_quote_longer_than_the_maximum_is_refused(member_client, vehicle, tariff, settings):
    settings.BILLING = {**settings.BILLING, "MAX_RENTAL_DAYS": 31}

    response = member_client.post(
        "/api/quotes/",
        {"vehicle": vehicle.plate, "started_at": "2026-06-01T10:00:00+02:00",
         "ended_at": "2026-07-02T10:00:01+02:00"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["code"] == "rental_too_long"


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_start_further_back_than_the_maximum_is_refused(member_client, vehicle, tariff):
    response = start(member_client, vehicle, "2026-04-30T11:59:00+02:00")  # 32 days back

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_period"
    assert not Rental.objects.exists()


def test_a_car_kept_beyond_the_maximum_is_still_ended_and_billed(member_client, vehicle, tariff):
    with time_machine.travel("2026-06-01T12:00:00+02:00", tick=False):
        rental_id = start(member_client, vehicle, "2026-06-01T11:00:00+02:00").json()["id"]

    with time_machine.travel("2026-07-15T12:00:00+02:00", tick=False):
        response = end(member_client, rental_id, "2026-07-15T11:00:00+02:00")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["minutes"] == 44 * 24 * 60
    # 45 local dates (1 June to 15 July), each over the cap: 45 x 45.00 + 1.00 unlock fee.
    assert body["total"] == body["invoice"]["total"] == "2026.00"
    assert Rental.objects.get().status == Rental.Status.ENDED


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_retried_start_with_the_same_instant_returns_the_same_rental(
    member_client, vehicle, tariff
):
    first = start(member_client, vehicle, "2026-06-01T11:00:00+02:00")
    again = start(member_client, vehicle, "2026-06-01T09:00:00Z")  # the same instant

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert Rental.objects.count() == 1


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_car_moved_to_another_zone_mid_rental_is_billed_in_the_zone_that_priced_it(
    member_client, vehicle, tariff
):
    from tests.factories import ZoneFactory

    rental_id = start(member_client, vehicle, "2026-06-01T11:00:00+02:00").json()["id"]
    vehicle.zone = ZoneFactory(
        code="tokyo", time_zone="Asia/Tokyo", currency="JPY", vat_rate="0.10",
        invoice_prefix="TYO",
    )  # fmt: skip
    vehicle.save()

    invoice = end(member_client, rental_id, "2026-06-01T11:20:00").json()["invoice"]

    assert invoice["series"].startswith("PAR-")
    assert (invoice["currency"], invoice["vat_rate"]) == ("EUR", "0.20")
    assert invoice["period_ended_at"] == "2026-06-01T09:20:00Z"  # wall clock read in Paris


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_busy_vehicle_and_a_member_with_an_open_rental_get_409(
    member_client, other_member_client, vehicle, tariff, zone
):
    from tests.factories import VehicleFactory

    assert start(member_client, vehicle, "2026-06-01T10:00:00+02:00").status_code == 201

    busy = start(other_member_client, vehicle, "2026-06-01T10:05:00+02:00")
    second = start(member_client, VehicleFactory(zone=zone), "2026-06-01T10:05:00+02:00")

    assert (busy.status_code, busy.json()["code"]) == (409, "vehicle_busy")
    assert (second.status_code, second.json()["code"]) == (409, "member_has_open_rental")


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_vehicle_in_maintenance_cannot_be_rented(member_client, vehicle, tariff):
    vehicle.status = vehicle.Status.MAINTENANCE
    vehicle.save()

    response = start(member_client, vehicle, "2026-06-01T10:00:00+02:00")

    assert (response.status_code, response.json()["code"]) == (400, "vehicle_unavailable")


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_no_tariff_in_force_is_refused_with_its_code(member_client, vehicle):
    response = start(member_client, vehicle, "2026-06-01T10:00:00+02:00")

    assert (response.status_code, response.json()["code"]) == (409, "no_tariff")


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_another_members_rental_is_404_to_read_and_to_end(
    member_client, other_member_client, vehicle, tariff
):
    rental_id = start(member_client, vehicle, "2026-06-01T10:00:00+02:00").json()["id"]

    assert other_member_client.get(f"/api/rentals/{rental_id}/").status_code == 404
    assert end(other_member_client, rental_id, "2026-06-01T11:00:00+02:00").status_code == 404
    assert other_member_client.get("/api/rentals/").json()["results"] == []
    assert Rental.objects.get().status == Rental.Status.OPEN


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_replayed_idempotency_key_returns_the_first_response_and_starts_once(
    member_client, vehicle, tariff
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-1"}
    first = start(member_client, vehicle, "2026-06-01T10:00:00+02:00", **headers)
    replay = start(member_client, vehicle, "2026-06-01T10:00:00+02:00", **headers)

    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert Rental.objects.count() == 1


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_an_idempotency_key_reused_with_another_body_is_refused_with_422(
    member_client, vehicle, tariff
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-2"}
    start(member_client, vehicle, "2026-06-01T10:00:00+02:00", **headers)

    response = start(member_client, vehicle, "2026-06-01T10:01:00+02:00", **headers)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_idempotency_keys_are_scoped_per_user(
    member_client, other_member_client, vehicle, tariff, zone
):
    from tests.factories import VehicleFactory

    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key"}
    first = start(member_client, vehicle, "2026-06-01T10:00:00+02:00", **headers)
    other = start(
        other_member_client, VehicleFactory(zone=zone), "2026-06-01T10:00:00+02:00", **headers
    )

    assert first.status_code == other.status_code == 201
    assert json.loads(first.content)["id"] != json.loads(other.content)["id"]


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_the_rental_list_is_the_members_own_newest_first(member_client, vehicle, tariff):
    for hour in (8, 9):
        rental_id = start(member_client, vehicle, f"2026-06-01T{hour:02d}:00:00+02:00").json()["id"]
        end(member_client, rental_id, f"2026-06-01T{hour:02d}:30:00+02:00")

    results = member_client.get("/api/rentals/").json()["results"]

    assert [r["started_at"] for r in results] == ["2026-06-01T07:00:00Z", "2026-06-01T06:00:00Z"]
    assert all(r["status"] == "ended" and r["invoice"] for r in results)


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_misspelt_field_is_refused_rather_than_read_as_now(member_client, vehicle, tariff):
    rental_id = start(member_client, vehicle, "2026-06-01T10:00:00+02:00").json()["id"]

    response = member_client.post(
        f"/api/rentals/{rental_id}/end/", {"endedAt": "2026-06-01T11:00:00+02:00"}, format="json"
    )

    assert response.status_code == 400
    assert "endedAt" in response.json()
    assert Rental.objects.get().status == Rental.Status.OPEN


@time_machine.travel("2026-06-01T12:00:00+02:00", tick=False)
def test_a_member_cannot_quote_on_behalf_of_another_member(
    member_client, other_member, vehicle, tariff
):
    response = member_client.post(
        "/api/quotes/",
        {"vehicle": vehicle.plate, "member": other_member.pk,
         "started_at": "2026-06-01T10:00:00+02:00", "ended_at": "2026-06-01T10:20:00+02:00"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "member" in response.json()
