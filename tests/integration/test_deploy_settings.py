"""Production settings: Django's deploy checks pass, transport security is on, secrets stay out.

The settings module reads the environment once, at start-up, so production-like settings are
checked in a fresh interpreter with a production-like environment (no DEBUG, no TESTING).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import client_for
from tests.factories import MemberFactory

ROOT = Path(__file__).resolve().parents[2]
# Variables that make the settings lenient; a production environment has none of them.
LENIENT = ("DEBUG", "TESTING", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS")


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in LENIENT}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="billing.example.com",
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_django_deploy_checks_pass_with_a_production_environment():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())

    assert result.returncode == 0, result.stdout + result.stderr


PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "SECURE_PROXY_SSL_HEADER",
    "ALLOWED_HOSTS",
]}))
"""


def test_a_production_environment_turns_on_hsts_ssl_redirect_and_secure_cookies():
    result = run(["-c", PRINT_SETTINGS], production_env())
    assert result.returncode == 0, result.stderr

    production = json.loads(result.stdout)

    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production["ALLOWED_HOSTS"] == ["billing.example.com"]


def test_starting_with_debug_off_and_no_secret_key_fails():
    env = production_env()
    del env["SECRET_KEY"]

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_tokens_and_passwords_never_reach_the_logs(fast_passwords, caplog):
    member = MemberFactory()
    password = "a-long-test-password"  # tests/factories.py

    with caplog.at_level(logging.DEBUG):
        anonymous = client_for(None)
        token = anonymous.post(
            "/api/auth/token/",
            {"username": member.user.username, "password": password},
            format="json",
        ).json()["token"]
        anonymous.post(
            "/api/auth/token/",
            {"username": member.user.username, "password": password + "-wrong"},
            format="json",
        )
        authenticated = client_for(member.user)
        authenticated.get("/api/rentals/")
        authenticated.get(f"/api/invoices/?token={token}&password={password}")
        authenticated.post("/api/rentals/", {"vehicle": "nope"}, format="json")
        client_for(None).get("/api/rentals/", HTTP_AUTHORIZATION=f"Token {token}x")

    logged = caplog.text + "".join(repr(record.__dict__) for record in caplog.records)
    http_lines = [r.getMessage() for r in caplog.records if r.name == "http"]
    assert len(http_lines) == 6, http_lines
    assert "POST /api/auth/token/ 200" in http_lines[0]
    assert token not in logged
    assert password not in logged
