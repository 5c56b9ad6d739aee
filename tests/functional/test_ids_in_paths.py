"""An id in a path past the database's integers finds nothing: a JSON 404, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

HUGE = "240694372527650099542622208"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/members/{HUGE}/charges/"),
        ("post", f"/api/members/{HUGE}/charges/"),
        ("get", f"/api/fees/{HUGE}/"),
        ("get", f"/api/subscriptions/{HUGE}/"),
        ("post", f"/api/subscriptions/{HUGE}/cancel/"),
    ],
)
def test_a_huge_id_is_a_json_404(finance_client, method, path):
    response = getattr(finance_client, method)(path, {}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_largest_id_that_fits_is_looked_up_and_not_found(finance_client):
    response = finance_client.get("/api/fees/999999999999999999/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_huge_id_in_a_body_is_a_field_error(finance_client, zone, member):
    subscription = finance_client.post(
        "/api/subscriptions/",
        {"zone": "paris", "product": "x", "start_date": "2026-12-31", "member": int(HUGE)},
        format="json",
    )
    charge = finance_client.post(
        f"/api/members/{member.user_id}/charges/", {"fee": "x", "rental": int(HUGE)}, format="json"
    )

    assert (subscription.status_code, list(subscription.json())) == (400, ["member", "code"])
    assert (charge.status_code, list(charge.json())) == (400, ["rental", "code"])
