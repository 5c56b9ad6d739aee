"""Every endpoint of the API, called by every role: the expected status in one table.

Roles: anonymous, a member, another member (who owns nothing of the member's), fleet,
finance and auditor (docs/reference/api.md, "Roles"). 401 without credentials, 403 for the wrong
role, 404 for another member's rental or invoice, 2xx for the right role.

Decided here: ``POST /api/auth/token/`` and ``GET /api/schema/`` (and its Swagger page
``/api/docs/``) are public. The token endpoint is how one gets credentials; the schema only
describes the API, which the API reference publishes anyway, and every operation in it still
needs its role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing import invoicing
from fleet import fees, passes
from rentals import lifecycle
from tests.conftest import client_for, staff
from tests.documents import fake_stored_document
from tests.factories import (
    MORNING,
    MemberFactory,
    TariffFactory,
    UserFactory,
    VehicleFactory,
    ZoneFactory,
)
from webhooks.models import Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "member", "other_member", "fleet", "finance", "auditor")
PASSWORD = "a-long-test-password"  # tests/factories.py


@dataclass
class World:
    """A zone with its tariff and cars; a member with an ended, invoiced rental."""

    member: Any
    other_member: Any
    zone: Any
    tariff: Any
    plates: list[str]
    ended_rental: int
    invoice: str
    credit_note: str
    endpoint: int
    delivery: int
    values: dict[str, Any] = field(default_factory=dict)

    def open_rental(self) -> int:
        """The member's open rental, created when a case needs it (it blocks a new start)."""
        if "open_rental" not in self.values:
            rental = lifecycle.start_rental(
                member=self.member, plate=self.plates[1], started_at=None, now=timezone.now()
            )
            self.values["open_rental"] = rental.pk
        return self.values["open_rental"]

    def fee(self) -> Any:
        """A cleaning fee in the zone's catalogue."""
        if "fee" not in self.values:
            self.values["fee"] = fees.publish_fee(
                zone=self.zone,
                code="cleaning",
                label="Cleaning",
                unit_price=Decimal("25.00"),
                valid_from=timezone.now() - timedelta(days=1),
                now=timezone.now(),
            )
        return self.values["fee"]

    def product(self) -> Any:
        """A monthly pass of the zone, giving the standard plan."""
        if "product" not in self.values:
            self.values["product"] = passes.publish_pass(
                zone=self.zone,
                code="monthly",
                label="Monthly pass",
                monthly_price=Decimal("19.90"),
                plan="standard",
                now=timezone.now(),
            )
        return self.values["product"]

    def subscription(self) -> int:
        """The member's subscription to the pass, from today."""
        if "subscription" not in self.values:
            self.values["subscription"] = passes.subscribe(
                member=self.member,
                product=self.product(),
                start_date=local_today(self.zone),
                subscribed_by_id=self.member.user_id,
                now=timezone.now(),
            ).pk
        return self.values["subscription"]

    def parked_rental(self) -> int:
        """The member's open rental, parked (so that it can be resumed)."""
        rental_id = self.open_rental()
        lifecycle.pause_rental(member=self.member, rental_id=rental_id, at=None, now=timezone.now())
        return rental_id


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The endpoint registered below is on loopback: never called here, only registered.
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_HTTP": True, "ALLOW_PRIVATE_ADDRESSES": True}


@pytest.fixture
def world(db) -> World:
    zone = ZoneFactory()
    tariff = TariffFactory(zone=zone)
    plates = [VehicleFactory(zone=zone).plate for _ in range(3)]
    member = MemberFactory()
    started = MORNING
    rental = lifecycle.start_rental(member=member, plate=plates[0], started_at=None, now=started)
    rental = lifecycle.end_rental(
        member=member, rental_id=rental.pk, ended_at=None, now=started + timedelta(minutes=20)
    )
    note = invoicing.issue_credit_note(
        invoice_number=rental.invoice.number,
        amount=Decimal("1.00"),
        reason="goodwill",
        issued_by_id=UserFactory().pk,
    )
    # Stored files without rendering them (rendering is tested in tests/integration).
    fake_stored_document(rental.invoice)
    fake_stored_document(note)
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        url="http://127.0.0.1:9/hooks",
        events=["invoice.issued"],
        secret="whsec_" + "A" * 32,
        created_by=UserFactory(),
        created_at=now,
    )
    event = Event.objects.create(
        id="invoice.issued:X", type="invoice.issued", occurred_at=now, data={}, recorded_at=now
    )
    delivery = Delivery.objects.create(
        event=event, endpoint=endpoint, status=Delivery.Status.FAILED, created_at=now
    )
    return World(
        member=member,
        other_member=MemberFactory(),
        zone=zone,
        tariff=tariff,
        plates=plates,
        ended_rental=rental.pk,
        invoice=rental.invoice.number,
        credit_note=note.number,
        endpoint=endpoint.pk,
        delivery=delivery.pk,
    )


def client_as(role: str, world: World):
    if role == "anonymous":
        return client_for(None)
    if role in ("member", "other_member"):
        return client_for(getattr(world, role).user)
    return client_for(staff(role))


# Path parameters: the schema's name, and which object of the world fills it.
FILL = {
    "zone": lambda w: w.zone.code,
    "plate": lambda w: w.plates[0],
    "tariff": lambda w: w.tariff.pk,
    "member": lambda w: w.member.user_id,
    "ended_rental": lambda w: w.ended_rental,
    "open_rental": lambda w: w.open_rental(),
    "parked_rental": lambda w: w.parked_rental(),
    "invoice": lambda w: w.invoice,
    "credit_note": lambda w: w.credit_note,
    "endpoint": lambda w: w.endpoint,
    "delivery": lambda w: w.delivery,
    "fee": lambda w: w.fee().pk,
    "subscription": lambda w: w.subscription(),
}


def local_today(zone: Any) -> Any:
    return timezone.now().astimezone(ZoneInfo(zone.time_zone)).date()


BODIES = {
    "zone": {
        "code": "lyon",
        "name": "Lyon",
        "time_zone": "Europe/Paris",
        "currency": "EUR",
        "vat_rate": "0.20",
        "invoice_prefix": "LYO",
    },
    "vehicle": lambda w: {"plate": "ZZ-999-ZZ", "zone": w.zone.code},
    "tariff": lambda w: {
        "zone": w.zone.code,
        "plan": "premium",
        "valid_from": "2026-01-01T00:00:00+01:00",
        "bands": [
            {"starts_at": "07:00", "per_minute": "0.45"},
            {"starts_at": "22:00", "per_minute": "0.25"},
        ],
        "unlock_fee": "1.00",
        "minimum_minutes": 0,
        "daily_cap": "55.00",
    },
    "member": {
        "username": "newcomer",
        "password": "a-long-pass-phrase-2026",
        "plan": "standard",
        "billing_name": "New Comer",
        "billing_address": "2 place Bellecour, 69002 Lyon",
    },
    "quote": lambda w: {
        "vehicle": w.plates[2],
        "started_at": "2026-06-01T10:00:00+02:00",
        "ended_at": "2026-06-01T10:20:00+02:00",
    },
    "start": lambda w: {"vehicle": w.plates[2]},
    "end": {},
    "event": {},
    "credit": {"amount": "1.00", "reason": "goodwill"},
    "token": lambda w: {"username": w.member.user.username, "password": PASSWORD},
    "webhook": {"url": "http://127.0.0.1:9/other", "events": ["rental.ended"]},
    "empty": {},
    "fee": lambda w: {
        "zone": w.zone.code,
        "code": "late-return",
        "label": "Late return",
        "unit": "hour",
        "unit_price": "50.00",
        "cap_per_occurrence": "150.00",
        "valid_from": "2026-01-01T00:00:00+01:00",
    },
    "pass": lambda w: {
        "zone": w.zone.code,
        "code": "monthly",
        "label": "Monthly pass",
        "monthly_price": "19.90",
        "plan": "standard",
    },
    "subscribe": lambda w: {
        "zone": w.zone.code,
        "product": w.product().code,
        "start_date": local_today(w.zone).isoformat(),
        "member": w.member.user_id,
    },
    "cancel": {},
    "charge": lambda w: {"fee": w.fee().code, "rental": w.ended_rental},
}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as in the schema
    statuses: tuple[int, int, int, int, int, int]  # in the order of ROLES
    fill: dict[str, str] = field(default_factory=dict)  # path parameter -> FILL key
    body: str | None = None  # BODIES key
    in_schema: bool = True
    query: str = ""  # required query parameters, appended to the path


# fmt: off
MATRIX = [
    #    method  path                                    anon  member other fleet finance auditor
    Row("GET",  "/api/zones/",                           (401, 403, 403, 200, 403, 403)),
    Row("POST", "/api/zones/",                           (401, 403, 403, 201, 403, 403),
        body="zone"),
    Row("GET",  "/api/zones/{code}/",                    (401, 403, 403, 200, 403, 403),
        fill={"code": "zone"}),
    Row("GET",  "/api/vehicles/",                        (401, 403, 403, 200, 403, 403)),
    Row("POST", "/api/vehicles/",                        (401, 403, 403, 201, 403, 403),
        body="vehicle"),
    Row("GET",  "/api/vehicles/{plate}/",                (401, 403, 403, 200, 403, 403),
        fill={"plate": "plate"}),
    Row("GET",  "/api/tariffs/",                         (401, 403, 403, 200, 403, 403)),
    Row("POST", "/api/tariffs/",                         (401, 403, 403, 201, 403, 403),
        body="tariff"),
    Row("GET",  "/api/tariffs/{id}/",                    (401, 403, 403, 200, 403, 403),
        fill={"id": "tariff"}),
    Row("GET",  "/api/members/",                         (401, 403, 403, 200, 403, 403)),
    Row("POST", "/api/members/",                         (401, 403, 403, 201, 403, 403),
        body="member"),
    Row("GET",  "/api/members/{id}/",                    (401, 403, 403, 200, 403, 403),
        fill={"id": "member"}),
    Row("POST", "/api/quotes/",                          (401, 200, 200, 403, 403, 403),
        body="quote"),
    Row("GET",  "/api/rentals/",                         (401, 200, 200, 403, 403, 403)),
    Row("POST", "/api/rentals/",                         (401, 201, 201, 403, 403, 403),
        body="start"),
    Row("GET",  "/api/rentals/{id}/",                    (401, 200, 404, 403, 403, 403),
        fill={"id": "ended_rental"}),
    Row("POST", "/api/rentals/{id}/pause/",              (401, 200, 404, 403, 403, 403),
        fill={"id": "open_rental"}, body="event"),
    Row("POST", "/api/rentals/{id}/resume/",             (401, 200, 404, 403, 403, 403),
        fill={"id": "parked_rental"}, body="event"),
    Row("POST", "/api/rentals/{id}/end/",                (401, 200, 404, 403, 403, 403),
        fill={"id": "open_rental"}, body="end"),
    Row("GET",  "/api/invoices/",                        (401, 200, 200, 403, 200, 200)),
    Row("GET",  "/api/invoices/{number}/",               (401, 200, 404, 403, 200, 200),
        fill={"number": "invoice"}),
    Row("POST", "/api/invoices/{number}/credit-notes/",  (401, 403, 403, 403, 201, 403),
        fill={"number": "invoice"}, body="credit"),
    Row("GET",  "/api/invoices/export/",                 (401, 403, 403, 403, 200, 403)),
    Row("GET",  "/api/audit/sequences/",                 (401, 403, 403, 403, 200, 200)),
    Row("GET",  "/api/invoices/{number}/pdf/",           (401, 200, 404, 403, 200, 200),
        fill={"number": "invoice"}),
    Row("GET",  "/api/credit-notes/{number}/pdf/",       (401, 200, 404, 403, 200, 200),
        fill={"number": "credit_note"}),
    Row("GET",  "/api/webhooks/endpoints/",              (401, 403, 403, 403, 200, 403)),
    Row("POST", "/api/webhooks/endpoints/",              (401, 403, 403, 403, 201, 403),
        body="webhook"),
    Row("GET",  "/api/webhooks/endpoints/{id}/",         (401, 403, 403, 403, 200, 403),
        fill={"id": "endpoint"}),
    Row("DELETE", "/api/webhooks/endpoints/{id}/",       (401, 403, 403, 403, 200, 403),
        fill={"id": "endpoint"}),
    Row("GET",  "/api/webhooks/deliveries/",             (401, 403, 403, 403, 200, 403)),
    Row("GET",  "/api/webhooks/deliveries/{id}/",        (401, 403, 403, 403, 200, 403),
        fill={"id": "delivery"}),
    Row("POST", "/api/webhooks/deliveries/{id}/resend/", (401, 403, 403, 403, 202, 403),
        fill={"id": "delivery"}, body="empty"),
    Row("GET",  "/api/audit/accounts/",                  (401, 403, 403, 403, 200, 200)),
    Row("GET",  "/api/accounting/fec/",                  (401, 403, 403, 403, 200, 200),
        query="?fiscal_year=2026"),
    Row("GET",  "/api/accounting/closings/",             (401, 403, 403, 403, 200, 200)),
    Row("GET",  "/api/accounting/e-reporting/",          (401, 403, 403, 403, 200, 200),
        query="?date_from=2026-06-01&date_to=2026-06-02"),
    Row("GET",  "/api/accounting/e-reporting/export/",   (401, 403, 403, 403, 200, 200),
        query="?date_from=2026-06-01&date_to=2026-06-02"),
    Row("GET",  "/api/fees/",                            (401, 403, 403, 403, 200, 403)),
    Row("POST", "/api/fees/",                            (401, 403, 403, 403, 201, 403),
        body="fee"),
    Row("GET",  "/api/fees/{id}/",                       (401, 403, 403, 403, 200, 403),
        fill={"id": "fee"}),
    Row("GET",  "/api/members/{id}/charges/",            (401, 403, 403, 403, 200, 403),
        fill={"id": "member"}),
    Row("POST", "/api/members/{id}/charges/",            (401, 403, 403, 403, 201, 403),
        fill={"id": "member"}, body="charge"),
    Row("GET",  "/api/passes/",                          (401, 200, 200, 403, 200, 403)),
    Row("POST", "/api/passes/",                          (401, 403, 403, 403, 201, 403),
        body="pass"),
    Row("GET",  "/api/subscriptions/",                   (401, 200, 200, 403, 200, 403)),
    # A member subscribes themselves: naming another member is refused.
    Row("POST", "/api/subscriptions/",                   (401, 201, 403, 403, 201, 403),
        body="subscribe"),
    Row("GET",  "/api/subscriptions/{id}/",              (401, 200, 404, 403, 200, 403),
        fill={"id": "subscription"}),
    Row("POST", "/api/subscriptions/{id}/cancel/",       (401, 200, 404, 403, 200, 403),
        fill={"id": "subscription"}, body="cancel"),
    Row("POST", "/api/auth/token/",                      (200, 200, 200, 200, 200, 200),
        body="token"),
    Row("GET",  "/api/schema/",                          (200, 200, 200, 200, 200, 200),
        in_schema=False),
    Row("GET",  "/api/docs/",                            (200, 200, 200, 200, 200, 200),
        in_schema=False),
]
# fmt: on

CASES = [
    pytest.param(row, role, status, id=f"{row.method} {row.path} as {role} -> {status}")
    for row in MATRIX
    for role, status in zip(ROLES, row.statuses, strict=True)
]


# Actions whose path says it all: no request body.
BODYLESS = {"/api/webhooks/deliveries/{id}/resend/"}

REFUSAL_CODES = {
    401: {"not_authenticated"},
    403: {"permission_denied"},
    404: {
        "not_found",
        "rental_not_found",
        "invoice_not_found",
        "credit_note_not_found",
        "subscription_not_found",
    },
}


def _url(row: Row, world: World) -> str:
    path = row.path.format(**{name: FILL[key](world) for name, key in row.fill.items()})
    return path + row.query


def _body(row: Row, world: World) -> dict[str, Any] | None:
    if row.body is None:
        return None
    body = BODIES[row.body]
    return body(world) if callable(body) else body


@pytest.mark.parametrize(("row", "role", "expected"), CASES)
def test_role_matrix(world, row, role, expected):
    client = client_as(role, world)
    url = _url(row, world)

    if row.method == "GET":
        response = client.get(url)
    elif row.method == "DELETE":
        response = client.delete(url)
    else:
        response = client.post(url, _body(row, world), format="json")

    assert response.status_code == expected, getattr(response, "content", b"")[:500]
    if expected in REFUSAL_CODES:
        assert response.json()["code"] in REFUSAL_CODES[expected]


def test_the_matrix_names_every_role_once_per_endpoint_and_no_endpoint_twice():
    keys = [(row.method, row.path) for row in MATRIX]
    assert len(keys) == len(set(keys))
    assert all(len(row.statuses) == len(ROLES) for row in MATRIX)


def test_the_schema_lists_exactly_the_endpoints_of_the_matrix_with_their_shapes(client):
    schema = client.get("/api/schema/?format=json").json()

    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations == {(row.method, row.path) for row in MATRIX if row.in_schema}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert len(success) == 1, label
            content = operation["responses"][success[0]]["content"]
            assert all("schema" in media for media in content.values()), label
            if method == "post" and path not in BODYLESS:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert "$ref" in body, label
            public = path == "/api/auth/token/"
            refusals = {"400", "429"} if public else {"401", "403"}
            assert refusals <= set(operation["responses"]), label
