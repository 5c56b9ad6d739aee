"""factory_boy factories for rows; the standard Paris tariff by default."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from fleet.models import Member, Tariff, TariffBand, Vehicle, Zone

CREATED = datetime(2020, 1, 1, tzinfo=UTC)
# A rental start that prices the same whenever the suite runs: 10:00 in Paris, day band.
MORNING = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone
        django_get_or_create = ("code",)

    code = "paris"
    name = "Paris"
    time_zone = "Europe/Paris"
    currency = "EUR"
    vat_rate = Decimal("0.20")
    invoice_prefix = factory.LazyAttribute(lambda zone: zone.code[:3].upper())
    yearly_series = True
    created_at = CREATED


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    plate = factory.Sequence(lambda n: f"AB-{n:03d}-CD")
    zone = factory.SubFactory(ZoneFactory)
    created_at = CREATED


class TariffFactory(factory.django.DjangoModelFactory):
    """Standard plan: 07:00 0.35/min, 22:00 0.20/min, unlock 1.00, cap 45.00 a local day."""

    class Meta:
        model = Tariff
        skip_postgeneration_save = True

    zone = factory.SubFactory(ZoneFactory)
    plan = "standard"
    valid_from = datetime(2000, 1, 1, tzinfo=UTC)
    unlock_fee = Decimal("1.00")
    minimum_minutes = 0
    daily_cap = Decimal("45.00")
    created_at = CREATED

    @factory.post_generation
    def bands(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        bands = extracted or [(time(7, 0), Decimal("0.35")), (time(22, 0), Decimal("0.20"))]
        for starts_at, per_minute in bands:
            TariffBand.objects.create(tariff=self, starts_at=starts_at, per_minute=per_minute)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)
    plan = "standard"
    billing_name = factory.Faker("name")
    billing_address = "1 rue de Rivoli, 75001 Paris, France"
    created_at = CREATED
