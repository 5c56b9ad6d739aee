"""The export refuses what it cannot produce; the audit refuses a series that does not exist.

Before: ``Accept: application/xml`` on the export got CSV; auditing ``NOPE`` (a typo in a cron
job) reported nothing wrong, in the API, the command and the admin alike.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import client_for, staff
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def invoice():
    return issue(UserFactory().pk)


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "image/png"])
def test_an_export_for_a_client_accepting_neither_csv_nor_json_is_a_json_406(invoice, accept):
    response = client_for(staff("finance")).get("/api/invoices/export/", HTTP_ACCEPT=accept)

    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_acceptable"


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"HTTP_ACCEPT": "text/csv"}, {}),
        ({"HTTP_ACCEPT": "text/*"}, {}),
        ({"HTTP_ACCEPT": "*/*"}, {}),
        ({"HTTP_ACCEPT": "application/xml, text/csv;q=0.1"}, {}),
        ({}, {"format": "csv"}),
    ],
)
def test_an_export_for_a_client_accepting_csv_is_csv(invoice, headers, query):
    response = client_for(staff("finance")).get("/api/invoices/export/", query, **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_an_export_refusal_for_a_csv_client_is_still_json(invoice):
    response = client_for(staff("finance")).get(
        "/api/invoices/export/", {"issued_from": "yesterday"}, HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_auditing_a_series_that_does_not_exist_is_a_404_unknown_series(invoice, role):
    response = client_for(staff(role)).get("/api/audit/sequences/", {"series": "NOPE"})

    assert response.status_code == 404
    assert response.json() == {
        "detail": "No invoice or credit note was ever issued in series 'NOPE'.",
        "code": "unknown_series",
        "series": "NOPE",
    }


def test_auditing_a_series_that_exists_still_reports_it(invoice):
    response = client_for(staff("auditor")).get("/api/audit/sequences/", {"series": invoice.series})

    assert response.status_code == 200
    assert [(r["series"], r["clean"]) for r in response.json()] == [(invoice.series, True)]


def test_auditing_every_series_of_empty_books_is_an_empty_report(db):
    response = client_for(staff("auditor")).get("/api/audit/sequences/")

    assert response.status_code == 200
    assert response.json() == []


def test_the_audit_command_refuses_a_series_that_does_not_exist(invoice):
    with pytest.raises(CommandError) as refused:
        call_command("audit_sequences", "--series", "NOPE", stdout=io.StringIO())

    assert refused.value.returncode == 2
    assert str(refused.value) == "No invoice or credit note was ever issued in series 'NOPE'."


def test_manage_py_audit_sequences_series_nope_exits_non_zero_with_a_message(tmp_path):
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {"SECRET_KEY": "x", "TESTING": "1", "DATABASE_URL": database, "PATH": "/usr/bin:/bin"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)

    result = subprocess.run(
        [*manage, "audit_sequences", "--series", "NOPE"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "No invoice or credit note was ever issued in series 'NOPE'." in result.stderr


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_the_admin_audit_page_shows_an_error_for_a_series_that_does_not_exist(invoice, role):
    client = Client()
    client.force_login(staff(role))

    page = client.get("/admin/billing/invoice/audit/", {"series": "NOPE"}).content.decode()

    assert "No invoice or credit note was ever issued in series &#x27;NOPE&#x27;." in page
    assert 'class="error"' in page
    assert "CLEAN" not in page
