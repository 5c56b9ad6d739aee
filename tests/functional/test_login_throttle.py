"""Login throttling counts failed attempts per username and per address, never successes.

Before: every request to the token endpoint counted against the client's address, so 20
failed logins for a username that does not exist locked a real member out, and behind a load
balancer (one address for everyone) the whole service got 20 logins a minute.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from api.models import LoginFailure
from tests.conftest import client_for
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-test-password"  # tests/factories.py
T0 = "2026-06-01T10:00:00+00:00"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def small_limits(settings):
    settings.LOGIN_THROTTLE = {
        "FAILURES_PER_USERNAME": 3,
        "FAILURES_PER_ADDRESS": 5,
        "WINDOW_SECONDS": 60,
        "KEEP_HOURS": 24,
    }


def login(username: str, password: str, address: str = "203.0.113.7", **headers):
    client = client_for(None)
    return client.post(
        "/api/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


@time_machine.travel(T0, tick=False)
def test_twenty_failed_logins_for_a_username_that_does_not_exist_leave_a_member_alone():
    member = MemberFactory()

    failures = [login("no-such-user", f"guess-{n}").status_code for n in range(20)]
    response = login(member.user.username, PASSWORD)

    assert failures[:10] == [400] * 10  # the default: 10 failures per username
    assert set(failures[10:]) == {429}  # that username, and only that one, is locked
    assert response.status_code == 200, response.content
    assert len(response.json()["token"]) == 40


@time_machine.travel(T0, tick=False)
def test_successful_logins_are_never_counted(small_limits):
    member = MemberFactory()

    statuses = [login(member.user.username, PASSWORD).status_code for _ in range(25)]

    assert statuses == [200] * 25
    assert LoginFailure.objects.count() == 0


def test_a_locked_username_is_refused_even_with_the_right_password_until_the_window_passes(
    small_limits,
):
    member = MemberFactory()
    with time_machine.travel(T0, tick=False) as clock:
        refused = [login(member.user.username, "wrong").status_code for _ in range(3)]
        clock.shift(timedelta(seconds=20))
        locked = login(member.user.username, PASSWORD)
        clock.shift(timedelta(seconds=40))
        unlocked = login(member.user.username, PASSWORD)

    assert refused == [400, 400, 400]
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"
    assert locked.json()["detail"].startswith("Too many failed logins for this username")
    assert locked["Retry-After"] == "40"
    assert unlocked.status_code == 200


def test_retry_after_is_when_the_oldest_failure_that_still_counts_leaves_the_window(
    small_limits,
):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(3):
            login("alice", "wrong")
            clock.shift(timedelta(seconds=10))
        first = login("alice", "wrong")  # at +30 s: the failure at +0 s leaves at +60 s
        clock.shift(timedelta(seconds=30))
        second = login("alice", "wrong")  # at +60 s: three failures, from +10 s, count

    assert (first.status_code, first["Retry-After"]) == (429, "30")
    assert second.status_code == 400  # the one at +0 s left the window: one more try
    assert LoginFailure.objects.filter(username="alice").count() == 4


@time_machine.travel(T0, tick=False)
def test_failures_from_one_address_lock_that_address_for_every_username(small_limits):
    member = MemberFactory()

    failures = [login(f"user-{n}", "wrong", address="198.51.100.1").status_code for n in range(5)]
    same_address = login(member.user.username, PASSWORD, address="198.51.100.1")
    other_address = login(member.user.username, PASSWORD, address="198.51.100.2")

    assert failures == [400] * 5
    assert same_address.status_code == 429
    assert same_address.json()["detail"].startswith("Too many failed logins from this address")
    assert other_address.status_code == 200


@time_machine.travel(T0, tick=False)
def test_without_num_proxies_a_client_cannot_escape_its_address_with_x_forwarded_for(
    small_limits,
):
    spoofed = [
        login(f"user-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(6)
    ]

    assert spoofed == [400] * 5 + [429]
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"203.0.113.7"}


@time_machine.travel(T0, tick=False)
def test_behind_one_proxy_num_proxies_1_counts_each_client_address(small_limits, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    balancer = "10.0.0.1"

    for n in range(5):
        login(f"user-{n}", "wrong", address=balancer, HTTP_X_FORWARDED_FOR="192.0.2.1")
    guesser = login("user-9", "wrong", address=balancer, HTTP_X_FORWARDED_FOR="192.0.2.1")
    member = MemberFactory()
    neighbour = login(
        member.user.username, PASSWORD, address=balancer, HTTP_X_FORWARDED_FOR="192.0.2.2"
    )

    assert guesser.status_code == 429
    assert neighbour.status_code == 200
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"192.0.2.1"}


@time_machine.travel(T0, tick=False)
def test_a_login_missing_a_field_is_refused_without_being_counted(small_limits):
    response = client_for(None).post("/api/auth/token/", {"username": "alice"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."], "code": "required"}
    assert LoginFailure.objects.count() == 0


@time_machine.travel(T0, tick=False)
def test_wrong_credentials_keep_drfs_refusal():
    response = login("alice", "wrong")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Unable to log in with provided credentials."],
        "code": "authorization",
    }


@time_machine.travel(T0, tick=False)
def test_the_purge_deletes_failures_past_their_retention_only(small_limits):
    now = timezone.now()
    for hours in (1, 23, 25, 48):
        LoginFailure.objects.create(
            username=f"u{hours}", address="203.0.113.7", failed_at=now - timedelta(hours=hours)
        )
    out = io.StringIO()

    call_command("purge_login_failures", stdout=out)

    assert out.getvalue() == "deleted 2 failed login(s)\n"
    assert sorted(LoginFailure.objects.values_list("username", flat=True)) == ["u1", "u23"]


def test_a_login_limit_below_1_stops_the_process():
    env = {**os.environ, "LOGIN_FAILURES_PER_USERNAME": "0"}

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "LOGIN_THROTTLE['FAILURES_PER_USERNAME'] must be at least 1, not 0." in result.stderr
