from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q


class Zone(models.Model):
    """A service area: its clock, its money, its VAT and its invoice series."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, help_text="IANA time zone, e.g. Europe/Paris")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4)
    invoice_prefix = models.CharField(
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{1,9}$", "2-10 capitals and digits.")],
    )
    yearly_series = models.BooleanField(
        default=True, help_text="Start a new invoice series each local calendar year."
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0) & Q(vat_rate__lt=1), name="zone_vat_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Vehicle(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "AVAILABLE", "Available"
        MAINTENANCE = "MAINTENANCE", "In maintenance"
        RETIRED = "RETIRED", "Retired"

    plate = models.CharField(max_length=20, unique=True)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="vehicles")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.plate


class Tariff(models.Model):
    """The stored form of a tariff; ``fleet.tariffs`` turns it into a pure pricing tariff.

    Never edited once a rental has used it (a database trigger refuses it on PostgreSQL):
    publish a new one with a later ``valid_from``.
    """

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="tariffs")
    plan = models.SlugField(max_length=40)
    valid_from = models.DateTimeField()
    unlock_fee = models.DecimalField(
        max_digits=12, decimal_places=4, validators=[MinValueValidator(0)]
    )
    minimum_minutes = models.PositiveIntegerField(default=0)
    daily_cap = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # Null: parked minutes cost what driving minutes cost (the tariff ignores parking).
    park_per_minute = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    per_km = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    included_km = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "plan", "valid_from"], name="tariff_unique_zone_plan_valid_from"
            ),
            models.CheckConstraint(condition=Q(unlock_fee__gte=0), name="tariff_unlock_fee_gte_0"),
            models.CheckConstraint(
                condition=Q(daily_cap__isnull=True) | Q(daily_cap__gte=0),
                name="tariff_daily_cap_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(park_per_minute__isnull=True) | Q(park_per_minute__gte=0),
                name="tariff_park_per_minute_gte_0",
            ),
            models.CheckConstraint(condition=Q(per_km__gte=0), name="tariff_per_km_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.zone.code}/{self.plan}@{self.valid_from.isoformat()}"


class TariffBand(models.Model):
    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="bands")
    starts_at = models.TimeField()
    per_minute = models.DecimalField(
        max_digits=12, decimal_places=4, validators=[MinValueValidator(0)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tariff", "starts_at"], name="band_unique_start"),
            models.CheckConstraint(condition=Q(per_minute__gte=0), name="band_per_minute_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.tariff} {self.starts_at:%H:%M} {self.per_minute}/min"


class Member(models.Model):
    """A member: a user with a tariff plan and the identity printed on invoices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member"
    )
    plan = models.SlugField(max_length=40)
    billing_name = models.CharField(max_length=200)
    billing_address = models.TextField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.billing_name})"
