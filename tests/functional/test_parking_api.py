"""Members' apps pause, resume and end with a distance; quotes take the same; tariffs price it."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
import time_machine

from rentals.models import ParkedInterval, Rental
from tests.factories import TariffFactory

pytestmark = pytest.mark.django_db

NOW = "2026-10-25T06:00:00+01:00"  # the morning after the Paris fall-back night


@pytest.fixture
def parking_tariff(zone):
    """The standard bands, 0.10 a parked minute, 0.19 a km beyond 200 km, no cap."""
    return TariffFactory(
        zone=zone,
        daily_cap=None,
        park_per_minute=Decimal("0.10"),
        per_km=Decimal("0.19"),
        included_km=200,
    )


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, format="json", **headers)


def started(client, vehicle, at):
    response = post(client, "/api/rentals/", {"vehicle": vehicle.plate, "started_at": at})
    assert response.status_code == 201, response.content
    return response.json()["id"]


@time_machine.travel(NOW, tick=False)
def test_a_rental_parked_across_the_fall_back_night_bills_its_parked_minutes_paris_fall_back(
    member_client, vehicle, parking_tariff
):
    # 01:00+02:00 to 04:00+01:00 is 240 minutes; parked 01:30+02:00 to 03:30+01:00 is 180
    # of them: 60 x 0.20 + 180 x 0.10 = 30.00, + 1.00 unlock, + 50 km x 0.19 = 9.50.
    rental = started(member_client, vehicle, "2026-10-25T01:00:00+02:00")
    paused = post(member_client, f"/api/rentals/{rental}/pause/", {"at": "2026-10-25T01:30+02:00"})
    resumed = post(
        member_client, f"/api/rentals/{rental}/resume/", {"at": "2026-10-25T03:30:00+01:00"}
    )
    ended = post(
        member_client,
        f"/api/rentals/{rental}/end/",
        {"ended_at": "2026-10-25T04:00:00+01:00", "distance_km": "250"},
    )

    assert (paused.status_code, paused.json()["state"]) == (200, "parked")
    assert paused.json()["parked"] == [
        {
            "from": "2026-10-24T23:30:00Z",
            "from_local": "2026-10-25T01:30:00+02:00",
            "to": None,
            "to_local": None,
        }
    ]
    assert (resumed.status_code, resumed.json()["state"]) == (200, "driving")
    body = ended.json()
    assert (ended.status_code, body["state"], body["distance_km"]) == (200, "ended", "250.0")
    assert body["parked"][0]["to_local"] == "2026-10-25T03:30:00+01:00"
    assert [(line["kind"], line["minutes"], line["amount"]) for line in body["lines"]] == [
        ("UNLOCK_FEE", 0, "1.00"),
        ("MINUTES", 60, "12.00"),
        ("PARKED_MINUTES", 180, "18.00"),
        ("DISTANCE", 0, "9.50"),
    ]
    assert (body["minutes"], body["total"]) == (240, "40.50")
    assert body["lines"][-1]["quantity"] == "50" and body["lines"][-1]["unit"] == "km"


@time_machine.travel(NOW, tick=False)
def test_an_end_while_parked_closes_the_pause_at_the_end(member_client, vehicle, parking_tariff):
    rental = started(member_client, vehicle, "2026-10-25T05:00:00+01:00")
    post(member_client, f"/api/rentals/{rental}/pause/", {"at": "2026-10-25T05:10:00+01:00"})

    ended = post(
        member_client, f"/api/rentals/{rental}/end/", {"ended_at": "2026-10-25T05:40+01:00"}
    )

    # 10 driving minutes at 0.20 and 30 parked at 0.10, + 1.00.
    assert ended.json()["parked"][0]["to"] == "2026-10-25T04:40:00Z"
    assert ended.json()["total"] == "6.00"
    assert ParkedInterval.objects.get().resumed_at is not None


@time_machine.travel(NOW, tick=False)
def test_a_pause_or_resume_repeated_at_the_same_instant_returns_the_same_body(
    member_client, vehicle, parking_tariff
):
    rental = started(member_client, vehicle, "2026-10-25T05:00:00+01:00")
    pause = {"at": "2026-10-25T05:10:00+01:00"}
    resume = {"at": "2026-10-25T05:20:00+01:00"}

    first_pause = post(member_client, f"/api/rentals/{rental}/pause/", pause)
    again_pause = post(member_client, f"/api/rentals/{rental}/pause/", pause)
    first_resume = post(member_client, f"/api/rentals/{rental}/resume/", resume)
    again_resume = post(member_client, f"/api/rentals/{rental}/resume/", resume)
    keyed = post(member_client, f"/api/rentals/{rental}/resume/", resume, HTTP_IDEMPOTENCY_KEY="r")
    replay = post(member_client, f"/api/rentals/{rental}/resume/", resume, HTTP_IDEMPOTENCY_KEY="r")

    assert first_pause.content == again_pause.content
    assert first_resume.content == again_resume.content == keyed.content == replay.content
    assert replay["Idempotent-Replayed"] == "true"
    assert ParkedInterval.objects.count() == 1


@pytest.mark.parametrize(
    ("events", "refused", "status", "code"),
    [
        pytest.param(
            [("pause", "05:10")], ("pause", "05:15"), 409, "rental_parked", id="pause-a-paused"
        ),
        pytest.param([], ("resume", "05:15"), 409, "rental_not_parked", id="resume-a-driving"),
        pytest.param(
            [("pause", "05:10"), ("resume", "05:20")],
            ("pause", "05:15"),
            409,
            "before_previous_event",
            id="pause-before-the-last-resume",
        ),
        pytest.param(
            [("pause", "05:10")],
            ("resume", "05:05"),
            409,
            "before_previous_event",
            id="resume-before-the-pause",
        ),
        pytest.param([], ("pause", "04:55"), 409, "before_previous_event", id="before-start"),
        pytest.param(
            [("pause", "05:10")], ("end", "05:05"), 409, "before_previous_event", id="end-early"
        ),
        pytest.param([], ("pause", "06:30"), 400, "invalid_period", id="in-the-future"),
        pytest.param([("end", "05:30")], ("pause", "05:40"), 409, "rental_already_ended",
                     id="pause-an-ended-rental"),
        pytest.param([("end", "05:30")], ("resume", "05:40"), 409, "rental_already_ended",
                     id="resume-an-ended-rental"),
    ],
)  # fmt: skip
@time_machine.travel(NOW, tick=False)
def test_events_out_of_turn_are_refused_with_a_stable_code(
    member_client, vehicle, parking_tariff, events, refused, status, code
):
    rental = started(member_client, vehicle, "2026-10-25T05:00:00+01:00")

    def send(kind, wall):
        field = "ended_at" if kind == "end" else "at"
        return post(
            member_client, f"/api/rentals/{rental}/{kind}/", {field: f"2026-10-25T{wall}+01:00"}
        )

    for kind, wall in events:
        assert send(kind, wall).status_code == 200
    intervals = list(ParkedInterval.objects.values_list("paused_at", "resumed_at"))

    response = send(*refused)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert list(ParkedInterval.objects.values_list("paused_at", "resumed_at")) == intervals


@time_machine.travel(NOW, tick=False)
def test_a_wall_clock_pause_inside_the_repeated_hour_is_refused_as_ambiguous(
    member_client, vehicle, parking_tariff
):
    rental = started(member_client, vehicle, "2026-10-25T01:00:00+02:00")

    response = post(member_client, f"/api/rentals/{rental}/pause/", {"at": "2026-10-25T02:30:00"})

    assert (response.status_code, response.json()["code"]) == (400, "ambiguous_local_time")


@time_machine.travel(NOW, tick=False)
def test_another_members_rental_cannot_be_paused(
    member_client, other_member_client, vehicle, parking_tariff
):
    rental = started(member_client, vehicle, "2026-10-25T05:00:00+01:00")

    response = post(other_member_client, f"/api/rentals/{rental}/pause/", {})

    assert (response.status_code, response.json()["code"]) == (404, "rental_not_found")
    assert not ParkedInterval.objects.exists()


@pytest.mark.parametrize(
    "distance_km",
    [pytest.param("12.55", id="two-decimals"), pytest.param(12.5, id="a-number"),
     pytest.param("-1", id="negative"), pytest.param("1e3", id="exponent"),
     pytest.param(" 12 ", id="spaces")],
)  # fmt: skip
@time_machine.travel(NOW, tick=False)
def test_a_distance_that_is_not_a_decimal_string_with_one_decimal_is_refused(
    member_client, vehicle, parking_tariff, distance_km
):
    rental = started(member_client, vehicle, "2026-10-25T05:00:00+01:00")

    response = post(member_client, f"/api/rentals/{rental}/end/", {"distance_km": distance_km})

    assert response.status_code == 400
    assert "distance_km" in response.json()
    assert Rental.objects.get().status == Rental.Status.OPEN


@time_machine.travel(NOW, tick=False)
def test_a_quote_takes_pauses_and_a_distance(member_client, vehicle, parking_tariff):
    response = post(
        member_client,
        "/api/quotes/",
        {
            "vehicle": vehicle.plate,
            "started_at": "2026-10-25T01:00:00+02:00",
            "ended_at": "2026-10-25T04:00:00+01:00",
            "parked": [{"from": "2026-10-25T01:30:00+02:00", "to": "2026-10-25T03:30:00+01:00"}],
            "distance_km": "250.0",
        },
    )

    assert response.status_code == 200, response.content
    assert (response.json()["minutes"], response.json()["total"]) == (240, "40.50")
    assert not Rental.objects.exists()


@pytest.mark.parametrize(
    ("parked", "field"),
    [
        pytest.param([{"from": "2026-10-25T05:30:00+01:00", "to": "2026-10-25T05:10:00+01:00"}],
                     "invalid_parked_interval", id="reversed"),
        pytest.param([{"from": "2026-10-25T04:30:00+01:00", "to": "2026-10-25T05:10:00+01:00"}],
                     "invalid_parked_interval", id="before-the-start"),
        pytest.param([{"from": "2026-10-25T05:10:00+01:00"}], None, id="missing-to"),
        pytest.param([{"from": "2026-10-25T05:10:00+01:00", "to": "2026-10-25T05:20:00+01:00",
                       "till": "x"}], None, id="unknown-field"),
    ],
)  # fmt: skip
@time_machine.travel(NOW, tick=False)
def test_a_quote_with_a_pause_outside_the_rental_is_refused(
    member_client, vehicle, parking_tariff, parked, field
):
    response = post(
        member_client,
        "/api/quotes/",
        {
            "vehicle": vehicle.plate,
            "started_at": "2026-10-25T05:00:00+01:00",
            "ended_at": "2026-10-25T05:40:00+01:00",
            "parked": parked,
        },
    )

    assert response.status_code == 400
    if field is not None:
        assert response.json()["code"] == field


@time_machine.travel(NOW, tick=False)
def test_a_tariff_without_parking_bills_parked_minutes_as_driving(member_client, vehicle, zone):
    TariffFactory(zone=zone, bands=[(time(0), Decimal("0.30"))])
    rental = started(member_client, vehicle, "2026-10-25T05:00:00+01:00")
    post(member_client, f"/api/rentals/{rental}/pause/", {"at": "2026-10-25T05:10:00+01:00"})
    post(member_client, f"/api/rentals/{rental}/resume/", {"at": "2026-10-25T05:30:00+01:00"})

    ended = post(
        member_client, f"/api/rentals/{rental}/end/", {"ended_at": "2026-10-25T05:40+01:00"}
    )

    # 40 minutes at 0.30 whatever the pause, + 1.00; no parked line, no distance line.
    assert [line["kind"] for line in ended.json()["lines"]] == ["UNLOCK_FEE", "MINUTES"]
    assert ended.json()["total"] == "13.00"


def test_fleet_publishes_a_tariff_with_parking_and_distance(fleet_client, zone):
    response = fleet_client.post(
        "/api/tariffs/",
        {
            "zone": zone.code,
            "plan": "standard",
            "valid_from": "2026-01-01T00:00:00+01:00",
            "bands": [{"starts_at": "07:00", "per_minute": "0.35"}],
            "unlock_fee": "1.00",
            "minimum_minutes": 0,
            "daily_cap": None,
            "park_per_minute": "0.10",
            "per_km": "0.19",
            "included_km": 200,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["park_per_minute"], body["per_km"], body["included_km"]) == ("0.10", "0.19", 200)


def test_a_tariff_published_without_the_new_fields_gets_their_defaults(fleet_client, zone):
    response = fleet_client.post(
        "/api/tariffs/",
        {
            "zone": zone.code,
            "plan": "standard",
            "valid_from": "2026-01-01T00:00:00+01:00",
            "bands": [{"starts_at": "07:00", "per_minute": "0.35"}],
            "unlock_fee": "1.00",
            "minimum_minutes": 0,
            "daily_cap": None,
        },
        format="json",
    )

    body = response.json()
    assert (body["park_per_minute"], body["per_km"], body["included_km"]) == (None, "0.00", 0)
