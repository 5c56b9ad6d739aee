"""The bench's scratch database, its rows, and the machine the figures come from.

Rows are bulk-inserted through the ORM (no password hashing, no API): members with a token
and one open rental each, in one zone whose invoices all fall into one series.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = "bench_billing"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
BATCH = 2000


def server_url() -> str:
    """Return the PostgreSQL server to use: ``DATABASE_URL``, or the local default."""
    return os.environ.get("DATABASE_URL") or DEFAULT_SERVER


def with_database(url: str, name: str) -> str:
    """Return ``url`` with its database name replaced by ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """Return a production-like environment pointing at ``database_url``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "TESTING", "SECURE_SSL_REDIRECT")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def recreate(server: str, name: str = SCRATCH) -> str:
    """Drop and create the scratch database ``name``, migrate it; return its URL."""
    import psycopg

    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    url = with_database(server, name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=child_env(url),
        check=True,
    )
    return url


def drop(server: str, name: str = SCRATCH) -> None:
    """Drop the scratch database ``name``."""
    import psycopg

    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass(frozen=True, slots=True)
class OpenRental:
    rental_id: int
    member_id: int
    user_id: int
    token: str


class Fleet:
    """One Paris zone (prefix PAR, yearly series) with the standard tariff (0.35, night 0.20)."""

    def __init__(self) -> None:
        from fleet.models import Tariff, TariffBand, Zone

        created = datetime(2020, 1, 1, tzinfo=UTC)
        self.zone = Zone.objects.create(
            code="paris",
            name="Paris",
            time_zone="Europe/Paris",
            currency="EUR",
            vat_rate=Decimal("0.20"),
            invoice_prefix="PAR",
            yearly_series=True,
            created_at=created,
        )
        self.tariff = Tariff.objects.create(
            zone=self.zone,
            plan="standard",
            valid_from=datetime(2000, 1, 1, tzinfo=UTC),
            unlock_fee=Decimal("1.00"),
            minimum_minutes=0,
            daily_cap=Decimal("45.00"),
            created_at=created,
        )
        for starts_at, per_minute in ((time(7), "0.35"), (time(22), "0.20")):
            TariffBand.objects.create(
                tariff=self.tariff, starts_at=starts_at, per_minute=Decimal(per_minute)
            )
        self._made = 0

    def members(self, count: int, *, tag: str) -> list[tuple[Any, str]]:
        """Create ``count`` members, each with a token; return (member, token key) pairs."""
        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from fleet.models import Member

        user_model = get_user_model()
        now = datetime.now(UTC)
        users = user_model.objects.bulk_create(
            [user_model(username=f"{tag}-{i}", password="!") for i in range(count)],
            batch_size=BATCH,
        )
        members = Member.objects.bulk_create(
            [
                Member(
                    user=user,
                    plan="standard",
                    billing_name=f"Member {user.username}",
                    billing_address="1 rue de Rivoli, 75001 Paris",
                    created_at=now,
                )
                for user in users
            ],
            batch_size=BATCH,
        )
        tokens = Token.objects.bulk_create(
            [Token(key=Token.generate_key(), user=user) for user in users], batch_size=BATCH
        )
        return [(member, token.key) for member, token in zip(members, tokens, strict=True)]

    def open_rentals(self, count: int, *, tag: str, started_ago: timedelta) -> list[OpenRental]:
        """Create ``count`` members, each in an open rental of a vehicle of its own."""
        from fleet.models import Vehicle
        from rentals.models import Rental

        members = self.members(count, tag=tag)
        now = datetime.now(UTC)
        first = self._made
        self._made += count
        vehicles = Vehicle.objects.bulk_create(
            [
                Vehicle(plate=f"BE-{first + i:06d}", zone=self.zone, created_at=now)
                for i in range(count)
            ],
            batch_size=BATCH,
        )
        rentals = Rental.objects.bulk_create(
            [
                Rental(
                    member=member,
                    vehicle=vehicle,
                    tariff=self.tariff,
                    started_at=now - started_ago,
                    created_at=now,
                )
                for (member, _), vehicle in zip(members, vehicles, strict=True)
            ],
            batch_size=BATCH,
        )
        return [
            OpenRental(rental.pk, member.pk, member.user_id, token)
            for rental, (member, token) in zip(rentals, members, strict=True)
        ]


def machine() -> dict[str, str]:
    """Describe the machine: cores, CPU model, memory, PostgreSQL and Python versions."""
    from django.db import connection

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (postgres,) = cursor.fetchone()
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "postgresql": postgres,
        "python": sys.version.split()[0],
    }
