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
    """A member: a user with a tariff plan and the identity printed on invoices.

    A business customer is a member with a company name and a SIREN (validated by
    ``fleet.members``): its invoices carry the buyer's identifiers, payment terms and the
    late-payment mentions, and are e-invoices (Factur-X).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member"
    )
    plan = models.SlugField(max_length=40)
    billing_name = models.CharField(max_length=200)
    billing_address = models.TextField()
    company_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    siren = models.CharField(max_length=9, blank=True, default="", db_default="")
    # The buyer's intra-community VAT number, when it has one.
    vat_id = models.CharField(max_length=20, blank=True, default="", db_default="")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(siren="") | ~Q(company_name=""),
                name="member_siren_needs_company_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.billing_name})"

    @property
    def is_business(self) -> bool:
        """Whether the member is billed as a company (it has a SIREN)."""
        return bool(self.siren)


class Fee(models.Model):
    """A fee of a zone's catalogue: what it is called, what it costs, how VAT treats it.

    Versioned like tariffs: the fee in force for a code is the one with the latest
    ``valid_from`` not after the charge. Never edited once a charge has used it (a database
    trigger refuses it on PostgreSQL): publish a new version with a later ``valid_from``.
    A pass-through fee (a fine, a toll paid for the member) has no unit price: each charge
    gives the amount paid and the external reference (the fine's notice number).
    """

    class Vat(models.TextChoices):
        ZONE = "ZONE", "The zone's VAT rate, when charged"
        RATE = "RATE", "Its own VAT rate"
        OUT_OF_SCOPE = "OUT_OF_SCOPE", "Outside the scope of VAT (the legal reason is printed)"

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="fees")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    # A unit of billing.charges.UNITS ("unit", "hour", "day", "km"...).
    unit = models.CharField(max_length=16, default="unit")
    # VAT included; null for a pass-through fee, whose amount comes with each charge.
    unit_price = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    pass_through = models.BooleanField(default=False)
    vat = models.CharField(max_length=16, choices=Vat.choices, default=Vat.ZONE)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    vat_exemption = models.CharField(max_length=200, blank=True, default="")
    # At most this much per occurrence, whatever quantity x unit price says (VAT included).
    cap_per_occurrence = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    valid_from = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "code", "valid_from"], name="fee_unique_zone_code_valid_from"
            ),
            models.CheckConstraint(
                condition=Q(pass_through=False, unit_price__isnull=False, unit_price__gte=0)
                | Q(pass_through=True, unit_price__isnull=True, cap_per_occurrence__isnull=True),
                name="fee_priced_or_passed_through",
            ),
            models.CheckConstraint(
                condition=Q(vat="ZONE", vat_rate__isnull=True, vat_exemption="")
                | Q(
                    vat="RATE",
                    vat_rate__isnull=False,
                    vat_rate__gte=0,
                    vat_rate__lt=1,
                    vat_exemption="",
                )
                | (Q(vat="OUT_OF_SCOPE", vat_rate__isnull=True) & ~Q(vat_exemption="")),
                name="fee_vat_consistent",
            ),
            models.CheckConstraint(
                condition=Q(cap_per_occurrence__isnull=True) | Q(cap_per_occurrence__gte=0),
                name="fee_cap_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone.code}/{self.code}@{self.valid_from.isoformat()}"


class PassProduct(models.Model):
    """A monthly pass sold in a zone: its price a month and the tariff plan it gives.

    Frozen once a member subscribed (a database trigger refuses changes on PostgreSQL, but
    for ``on_sale``): a new price is a new product, and subscribers keep the price they
    subscribed at.
    """

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="passes")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    # VAT included, at the zone's rate when each period is billed.
    monthly_price = models.DecimalField(max_digits=12, decimal_places=4)
    # The tariff plan rentals starting while a subscription runs are priced under.
    plan = models.SlugField(max_length=40)
    on_sale = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["zone", "code"], name="pass_unique_zone_code"),
            models.CheckConstraint(
                condition=Q(monthly_price__gte=0), name="pass_monthly_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone.code}/{self.code}"


class Subscription(models.Model):
    """A member's subscription to a pass, from the first instant of ``start_date`` (local).

    Billed per period (``fleet.periods``), each period once, in advance, by the invoice
    runs; ``next_period_index`` and ``next_period_starts_at`` say which period is billed
    next. Cancelled at a period's end: ``ends_at`` is then that end, and no later period is
    billed.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions")
    product = models.ForeignKey(PassProduct, on_delete=models.PROTECT, related_name="subscriptions")
    # The anchor of every period: its anniversaries in the zone's calendar.
    start_date = models.DateField()
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    next_period_index = models.PositiveIntegerField(default=0)
    next_period_starts_at = models.DateTimeField()
    subscribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The subscribing request's Idempotency-Key: the same request never subscribes twice.
    request_key = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscribed_by", "request_key"],
                condition=~Q(request_key=""),
                name="subscription_unique_request_key",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("started_at")),
                name="subscription_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(next_period_starts_at__gte=models.F("started_at")),
                name="subscription_bills_from_its_start",
            ),
        ]
        indexes = [
            # The runs find what is due by this, oldest first.
            models.Index(fields=["next_period_starts_at", "id"], name="subscription_next_period"),
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk}"


class SubscriptionPeriod(models.Model):
    """One billed period of a subscription: the subject of its invoice, inserted with it.

    Exactly once per (subscription, period), whatever runs concurrently or is killed and
    restarted: the unique constraint here and the invoice's unique subject both refuse a
    second one. Never changed (a database trigger refuses it on PostgreSQL).
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="periods")
    index = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "index"], name="subscription_period_once"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="subscription_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"subscription {self.subscription_id} period {self.index}"
