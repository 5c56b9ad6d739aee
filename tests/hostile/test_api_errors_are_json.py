"""Every error under /api/ is JSON with a ``code``, with DEBUG on and off; no POST is redirected.

Before: ``POST /api/quotes`` (no trailing slash) was a 500 with DEBUG on (APPEND_SLASH cannot
redirect a POST) and a 301 a POST client cannot follow with DEBUG off; an unknown path with
DEBUG on got Django's technical HTML 404; a server error an HTML page.
"""

from __future__ import annotations

import logging

import pytest

from billing import audit
from tests.conftest import client_for, staff
from tests.factories import MemberFactory, TariffFactory, VehicleFactory, ZoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def member_api():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    VehicleFactory(zone=zone, plate="AB-123-CD")
    client = client_for(MemberFactory().user)
    client.raise_request_exception = False
    return client


QUOTE = {
    "vehicle": "AB-123-CD",
    "started_at": "2026-06-01T10:00:00+02:00",
    "ended_at": "2026-06-01T10:20:00+02:00",
}


def test_a_post_without_the_trailing_slash_is_answered_as_with_it(debug, member_api):
    with_slash = member_api.post("/api/quotes/", QUOTE, format="json")
    without = member_api.post("/api/quotes", QUOTE, format="json")

    assert with_slash.status_code == 200
    assert (without.status_code, without.json()) == (with_slash.status_code, with_slash.json())


def test_a_retry_without_the_trailing_slash_replays_the_same_idempotent_request(debug, member_api):
    first = member_api.post("/api/rentals/", {"vehicle": "AB-123-CD"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="k-1")  # fmt: skip
    retry = member_api.post("/api/rentals", {"vehicle": "AB-123-CD"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="k-1")  # fmt: skip

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_path_without_the_trailing_slash_is_a_json_404_never_a_redirect(
    debug, member_api, method
):
    response = getattr(member_api, method)("/api/nowhere")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/nowhere/", "/api/invoices/a/b/c/", "/api/rentals/x/end/"])
def test_an_unknown_path_is_a_json_404(debug, member_api, path):
    response = member_api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_method_not_offered_is_a_json_405(debug, member_api):
    response = member_api.delete("/api/quotes/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]


def test_an_unknown_host_is_a_json_400(debug, member_api):
    response = member_api.get("/api/rentals/", HTTP_HOST="billing.evil.example")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_an_unexpected_failure_stays_a_500_but_answers_json_and_is_logged(
    debug, monkeypatch, caplog
):
    def broken(**kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(audit, "audit_sequences", broken)
    client = client_for(staff("auditor"))
    client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/audit/sequences/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error.", "code": "server_error"}
    assert "the disk is on fire" not in response.content.decode()
    assert any("the disk is on fire" in (r.exc_text or "") for r in caplog.records)


def test_pages_outside_the_api_keep_their_html(debug, client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
