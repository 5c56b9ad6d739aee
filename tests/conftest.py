"""Shared fixtures. PostgreSQL-marked tests fail (never skip) on another database."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import clock as core_clock
from tests import factories
from tests.books import DatabaseClock


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("postgres"):
            item.fixturenames.insert(0, "_require_postgres")


@pytest.fixture
def _require_postgres(django_db_blocker: object) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail(
            "This test needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
            f" (the database is {connection.vendor})."
        )


def client_for(user: object | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def zone(db: None) -> object:
    return factories.ZoneFactory()


@pytest.fixture
def tariff(zone: object) -> object:
    return factories.TariffFactory(zone=zone)


@pytest.fixture
def vehicle(zone: object) -> object:
    return factories.VehicleFactory(zone=zone)


@pytest.fixture
def member(db: None) -> object:
    return factories.MemberFactory()


@pytest.fixture
def other_member(db: None) -> object:
    return factories.MemberFactory()


def staff(role: str) -> object:
    """A staff user in a role's group (re-created if a transactional test flushed it)."""
    user = factories.UserFactory(is_staff=True)
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    return user


@pytest.fixture
def member_client(member: object) -> APIClient:
    return client_for(member.user)


@pytest.fixture
def other_member_client(other_member: object) -> APIClient:
    return client_for(other_member.user)


@pytest.fixture
def fleet_client(db: None) -> APIClient:
    return client_for(staff("fleet"))


@pytest.fixture
def finance_client(db: None) -> APIClient:
    return client_for(staff("finance"))


@pytest.fixture
def auditor_client(db: None) -> APIClient:
    return client_for(staff("auditor"))


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def db_clock(monkeypatch: pytest.MonkeyPatch) -> DatabaseClock:
    """Pin the database clock that dates documents (on SQLite and PostgreSQL alike)."""
    pinned = DatabaseClock()
    monkeypatch.setattr(core_clock, "read_database_clock", pinned)
    return pinned
