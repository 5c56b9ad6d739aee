"""Fleet staff in the admin go through the same use cases as the API (posted admin forms)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
import time_machine
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import authenticate
from django.utils import timezone

from fleet.models import Member, Tariff, Vehicle, Zone
from rentals import lifecycle
from tests.conftest import staff
from tests.factories import (
    MemberFactory,
    TariffFactory,
    UserFactory,
    VehicleFactory,
    ZoneFactory,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/fleet"
ZONE = {
    "code": "lyon", "name": "Lyon", "time_zone": "Europe/Paris", "currency": "EUR",
    "vat_rate": "0.20", "invoice_prefix": "LYO", "yearly_series": "on",
}  # fmt: skip
# The API's example tariff, as fleet staff type it in the admin (wall clock in Paris).
TARIFF_API = {
    "zone": "paris", "plan": "standard", "valid_from": "2027-01-01T00:00:00+01:00",
    "bands": [{"starts_at": "07:00", "per_minute": "0.35"},
              {"starts_at": "22:00", "per_minute": "0.20"}],
    "unlock_fee": "1.00", "minimum_minutes": 0, "daily_cap": "45.00",
}  # fmt: skip
BANDS = [("07:00", "0.35"), ("22:00", "0.20")]


@pytest.fixture
def fleet(client):
    client.force_login(staff("fleet"))
    return client


def tariff_form(zone, *, plan="standard", day="2027-01-01", at="00:00", bands=BANDS, **change):
    data = {
        "zone": zone.pk, "plan": plan, "valid_from_0": day, "valid_from_1": at,
        "unlock_fee": "1.00", "minimum_minutes": "0", "daily_cap": "45.00",
        "park_per_minute": "", "per_km": "0.00", "included_km": "0",
        "bands-TOTAL_FORMS": str(len(bands)), "bands-INITIAL_FORMS": "0",
        "bands-MIN_NUM_FORMS": "0", "bands-MAX_NUM_FORMS": "1000", "_save": "Save",
    }  # fmt: skip
    for index, (start, rate) in enumerate(bands):
        data[f"bands-{index}-starts_at"] = start
        data[f"bands-{index}-per_minute"] = rate
    return {**data, **change}


def form_errors(response) -> dict[str, list[str]]:
    """The errors the admin page shows: its form's, and its inline formsets' (by field)."""
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    errors = {name: list(messages) for name, messages in form.errors.items()}
    errors["__all__"] = list(form.non_field_errors())
    for inline in response.context["inline_admin_formsets"]:
        errors["bands"] = list(inline.formset.non_form_errors())
        for form in inline.formset.forms:
            for name, messages in form.errors.items():
                errors.setdefault(f"bands.{name}", []).extend(messages)
    return errors


def stored_tariff(tariff):
    return (
        tariff.zone.code, tariff.valid_from, tariff.unlock_fee, tariff.minimum_minutes,
        tariff.daily_cap, tariff.park_per_minute, tariff.per_km, tariff.included_km,
        [(band.starts_at, band.per_minute) for band in tariff.bands.order_by("starts_at")],
    )  # fmt: skip


# Zones.


def test_a_zone_added_in_the_admin_is_stored_as_the_api_stores_it(fleet, fleet_client):
    response = fleet.post(f"{ADMIN}/zone/add/", ZONE)
    api = fleet_client.post(
        "/api/zones/", {**ZONE, "code": "nice", "invoice_prefix": "NCE", "yearly_series": True},
        format="json",
    )  # fmt: skip

    assert response.status_code == 302, form_errors(response)
    assert api.status_code == 201, api.content
    fields = ["name", "time_zone", "currency", "vat_rate", "yearly_series"]
    admin_zone, api_zone = Zone.objects.get(code="lyon"), Zone.objects.get(code="nice")
    assert [getattr(admin_zone, f) for f in fields] == [getattr(api_zone, f) for f in fields]
    assert LogEntry.objects.get().action_flag == ADDITION


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"time_zone": "Europe/Lyon"}, "time_zone", "'Europe/Lyon' is not an IANA time zone."),
        ({"time_zone": "localtime"}, "time_zone", "'localtime' is not an IANA time zone."),
        ({"currency": "XYZ"}, "currency", "Unknown currency 'XYZ'"),
        ({"vat_rate": "-0.1"}, "__all__", "zone_vat_rate_range"),
        ({"invoice_prefix": "par"}, "invoice_prefix", "2-10 capitals and digits."),
    ],
    ids=["unknown-time-zone", "host-time-zone", "unknown-currency", "negative-vat", "prefix"],
)
def test_a_bad_zone_is_refused_with_a_form_error_and_nothing_stored(fleet, change, field, message):
    response = fleet.post(f"{ADMIN}/zone/add/", {**ZONE, **change})

    errors = form_errors(response)
    assert any(message in error for error in errors[field]), errors
    assert not Zone.objects.exists()


def test_a_used_zone_keeps_its_clock_but_can_be_renamed(fleet, tariff):
    zone = tariff.zone

    page = fleet.get(f"{ADMIN}/zone/{zone.pk}/change/")
    response = fleet.post(
        f"{ADMIN}/zone/{zone.pk}/change/",
        {**ZONE, "code": "paris", "name": "Paris intra-muros", "time_zone": "Asia/Tokyo"},
    )

    assert 'name="time_zone"' not in page.text  # shown read-only
    assert response.status_code == 302, form_errors(response)
    zone.refresh_from_db()
    assert (zone.name, zone.time_zone) == ("Paris intra-muros", "Europe/Paris")


def test_an_unused_zone_cannot_be_changed_to_an_unknown_time_zone(fleet, zone):
    response = fleet.post(
        f"{ADMIN}/zone/{zone.pk}/change/",
        {
            **ZONE,
            "code": zone.code,
            "invoice_prefix": zone.invoice_prefix,
            "time_zone": "Mars/Base",
        },
    )

    assert "'Mars/Base' is not an IANA time zone." in form_errors(response)["time_zone"]
    zone.refresh_from_db()
    assert zone.time_zone == "Europe/Paris"


# Tariffs.


def test_a_tariff_added_in_the_admin_is_stored_as_the_api_stores_it(fleet, fleet_client, zone):
    response = fleet.post(f"{ADMIN}/tariff/add/", tariff_form(zone))
    api = fleet_client.post("/api/tariffs/", {**TARIFF_API, "plan": "api"}, format="json")

    assert response.status_code == 302, form_errors(response)
    assert api.status_code == 201, api.content
    admin_tariff = Tariff.objects.get(plan="standard")
    assert stored_tariff(admin_tariff) == stored_tariff(Tariff.objects.get(plan="api"))
    assert admin_tariff.valid_from == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert LogEntry.objects.get().get_change_message().startswith("Added. Added tariff band")


def test_a_tariff_with_parking_and_distance_is_stored_as_the_api_stores_it(
    fleet, fleet_client, zone
):
    extras = {"park_per_minute": "0.10", "per_km": "0.25", "included_km": "50"}
    response = fleet.post(f"{ADMIN}/tariff/add/", tariff_form(zone, **extras))
    api = fleet_client.post(
        "/api/tariffs/",
        {**TARIFF_API, **extras, "included_km": 50, "plan": "api"},
        format="json",
    )

    assert response.status_code == 302, form_errors(response)
    assert api.status_code == 201, api.content
    admin_tariff = Tariff.objects.get(plan="standard")
    assert stored_tariff(admin_tariff) == stored_tariff(Tariff.objects.get(plan="api"))
    assert admin_tariff.park_per_minute == Decimal("0.10")
    page = fleet.get(f"{ADMIN}/tariff/{admin_tariff.pk}/change/")
    assert "0.10 per minute" in page.text and "0.25 per km beyond 50 km" in page.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"bands": []}, "__all__", "A tariff needs at least one band."),
        ({"bands": [("22:00", "0.20"), ("07:00", "0.35")]}, "__all__", "strictly increasing"),
        ({"bands": [("07:00", "0.35"), ("07:00", "0.20")]}, "bands", "duplicate data"),
        ({"bands": [("07:00:30", "0.35")]}, "bands.starts_at", "Enter a valid time."),
        ({"bands": [("07:00", "-0.35")]}, "bands.per_minute", "greater than or equal to 0"),
        ({"bands": [("07:00", "1000000")]}, "__all__", "per_minute must be below 1000000."),
        ({"unlock_fee": "-1.00"}, "unlock_fee", "greater than or equal to 0"),
        ({"park_per_minute": "1000000"}, "park_per_minute", "must be below 1000000."),
        ({"per_km": "-0.25"}, "per_km", "greater than or equal to 0"),
        ({"included_km": "2000000"}, "included_km", "included_km is at most 1000000."),
        ({"minimum_minutes": "2000"}, "minimum_minutes", "minimum_minutes is at most 1440."),
        ({"at": "02:30", "day": "2027-03-28"}, "valid_from", "did not happen in Europe/Paris"),
        ({"at": "02:30", "day": "2027-10-31"}, "valid_from", "happened twice in Europe/Paris"),
    ],
    ids=[
        "no-bands", "unsorted-bands", "duplicate-start", "band-start-with-seconds",
        "negative-rate", "huge-rate", "negative-fee", "huge-park-rate", "negative-per-km",
        "too-many-included-km", "minimum-above-a-day",
        "spring-forward-night-start", "fall-back-night-start",
    ],
)  # fmt: skip
def test_a_bad_tariff_is_refused_with_a_form_error_and_nothing_stored(
    fleet, zone, change, field, message
):
    response = fleet.post(f"{ADMIN}/tariff/add/", tariff_form(zone, **change))

    errors = form_errors(response)
    assert any(message in error for error in errors.get(field, [])), errors
    assert not Tariff.objects.exists()


def test_a_second_tariff_at_the_same_instant_is_refused(fleet, zone):
    assert fleet.post(f"{ADMIN}/tariff/add/", tariff_form(zone)).status_code == 302

    response = fleet.post(f"{ADMIN}/tariff/add/", tariff_form(zone))

    assert form_errors(response)["__all__"]
    assert Tariff.objects.count() == 1


def test_a_tariff_of_a_zone_with_an_unknown_time_zone_is_refused(fleet):
    # A zone stored before the admin called the use cases.
    broken = ZoneFactory(code="mars", time_zone="Mars/Base")

    response = fleet.post(f"{ADMIN}/tariff/add/", tariff_form(broken))

    assert form_errors(response)["zone"]
    assert not Tariff.objects.exists()


def test_a_published_tariff_is_shown_read_only_with_the_way_to_change_prices(fleet, tariff):
    page = fleet.get(f"{ADMIN}/tariff/{tariff.pk}/change/")
    post = fleet.post(f"{ADMIN}/tariff/{tariff.pk}/change/", tariff_form(tariff.zone))
    delete = fleet.post(f"{ADMIN}/tariff/{tariff.pk}/delete/", {"post": "yes"})

    assert page.context["title"] == "View tariff"
    assert "never edited once published" in page.text
    assert f"/admin/fleet/tariff/add/?zone={tariff.zone_id}&amp;plan=standard" in page.text
    assert "07:00: 0.35, 22:00: 0.20" in page.text
    assert (post.status_code, delete.status_code) == (403, 403)
    assert stored_tariff(tariff) == stored_tariff(Tariff.objects.get())


def test_a_rental_under_a_tariff_published_in_the_admin_can_be_ended(fleet, zone):
    assert fleet.post(f"{ADMIN}/tariff/add/", tariff_form(zone)).status_code == 302
    member, car = MemberFactory(), VehicleFactory(zone=zone)
    started = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
    rental = lifecycle.start_rental(member=member, plate=car.plate, started_at=started, now=started)

    with time_machine.travel(datetime(2027, 1, 15, 11, 0, tzinfo=UTC), tick=False):
        ended = lifecycle.end_rental(
            member=member, rental_id=rental.pk, ended_at=None, now=timezone.now()
        )

    assert ended.invoice.total == Decimal("22.00")  # 1.00 + 60 day minutes at 0.35


# Vehicles.


def test_a_vehicle_added_in_the_admin_is_stored_as_the_api_stores_it(fleet, fleet_client, zone):
    response = fleet.post(
        f"{ADMIN}/vehicle/add/", {"plate": "ab-123-cd", "zone": zone.pk, "status": "AVAILABLE"}
    )
    api = fleet_client.post(
        "/api/vehicles/", {"plate": "ef 456 gh", "zone": "paris"}, format="json"
    )

    assert response.status_code == 302, form_errors(response)
    assert api.status_code == 201, api.content
    assert sorted(Vehicle.objects.values_list("plate", "zone__code", "status")) == [
        ("AB-123-CD", "paris", "AVAILABLE"),
        ("EF 456 GH", "paris", "AVAILABLE"),
    ]


@pytest.mark.parametrize(
    "plate",
    ["'; DROP TABLE x;--", "AB\x00123", " AB-123-CD", "AB--123", "ÄB-123", "A" * 21],
    ids=["sql", "nul", "leading-space", "double-dash", "non-ascii", "too-long"],
)
def test_a_bad_plate_is_refused_with_a_form_error(fleet, zone, plate):
    response = fleet.post(
        f"{ADMIN}/vehicle/add/", {"plate": plate, "zone": zone.pk, "status": "AVAILABLE"}
    )

    assert form_errors(response)["plate"]
    assert not Vehicle.objects.exists()


def test_a_plate_taken_in_another_case_is_refused(fleet, vehicle):
    response = fleet.post(
        f"{ADMIN}/vehicle/add/",
        {"plate": vehicle.plate.lower(), "zone": vehicle.zone_id, "status": "AVAILABLE"},
    )

    assert form_errors(response)["plate"] == [f"A vehicle with plate {vehicle.plate} exists."]
    assert Vehicle.objects.count() == 1


def test_a_vehicle_changes_status_and_zone_but_keeps_its_plate(fleet, vehicle):
    lyon = ZoneFactory(code="lyon")

    response = fleet.post(
        f"{ADMIN}/vehicle/{vehicle.pk}/change/",
        {"plate": "ZZ-999-ZZ", "zone": lyon.pk, "status": "MAINTENANCE"},
    )

    assert response.status_code == 302, form_errors(response)
    vehicle.refresh_from_db()
    assert (vehicle.plate, vehicle.zone, vehicle.status) == (vehicle.plate, lyon, "MAINTENANCE")


# Members.


def test_a_member_added_in_the_admin_can_log_in(fleet):
    response = fleet.post(
        f"{ADMIN}/member/add/",
        {
            "username": "carla", "password": "a-long-test-password", "plan": "standard",
            "billing_name": "Carla Dupont", "billing_address": "5 quai de Seine, Paris",
        },
    )  # fmt: skip

    assert response.status_code == 302, form_errors(response)
    member = Member.objects.get()
    assert (member.user.username, member.billing_name) == ("carla", "Carla Dupont")
    assert authenticate(username="carla", password="a-long-test-password") == member.user


def test_a_weak_password_is_refused_with_a_form_error(fleet):
    response = fleet.post(
        f"{ADMIN}/member/add/",
        {
            "username": "dan", "password": "123", "plan": "standard",
            "billing_name": "Dan", "billing_address": "Paris",
        },
    )  # fmt: skip

    assert "This password is too short" in " ".join(form_errors(response)["password"])
    assert not Member.objects.exists()


def test_a_members_billing_identity_is_changed_through_the_use_case(fleet, member):
    response = fleet.post(
        f"{ADMIN}/member/{member.pk}/change/",
        {"plan": "premium", "billing_name": "   ", "billing_address": "Lyon"},
    )
    fixed = fleet.post(
        f"{ADMIN}/member/{member.pk}/change/",
        {"plan": "premium", "billing_name": "Alice Martin SAS", "billing_address": "Lyon"},
    )

    assert form_errors(response)["billing_name"]
    assert fixed.status_code == 302, form_errors(fixed)
    member.refresh_from_db()
    assert (member.plan, member.billing_name) == ("premium", "Alice Martin SAS")


@pytest.mark.parametrize("model", ["zone", "vehicle", "tariff", "member"])
def test_nothing_is_deleted_in_the_fleet_admin(client, model):
    rows = {
        "zone": ZoneFactory, "vehicle": VehicleFactory, "tariff": TariffFactory,
        "member": MemberFactory,
    }  # fmt: skip
    row = rows[model]()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = client.post(f"{ADMIN}/{model}/{row.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_band_starts_are_whole_minutes_in_the_use_case_too(zone):
    from billing import pricing
    from fleet import tariffs

    with pytest.raises(pricing.InvalidTariff, match="whole minutes"):
        tariffs.publish_tariff(
            zone=zone, plan="standard", valid_from=datetime(2027, 1, 1, tzinfo=UTC),
            bands=[(time(7, 0, 30), Decimal("0.35"))], unlock_fee=Decimal(0),
            minimum_minutes=0, daily_cap=None, now=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
    assert not Tariff.objects.exists()
