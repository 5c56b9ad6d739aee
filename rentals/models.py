from django.conf import settings
from django.db import models
from django.db.models import Q


class Rental(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        ENDED = "ENDED", "Ended"

    member = models.ForeignKey("fleet.Member", on_delete=models.PROTECT, related_name="rentals")
    vehicle = models.ForeignKey("fleet.Vehicle", on_delete=models.PROTECT, related_name="rentals")
    # Chosen at start (in force at started_at) and kept: a tariff once used is never edited.
    tariff = models.ForeignKey("fleet.Tariff", on_delete=models.PROTECT, related_name="rentals")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    # What the car's odometer says it drove, in km with one decimal, given at the end.
    distance_km = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two app servers racing still cannot open two rentals: checks in Python are not enough.
            models.UniqueConstraint(
                fields=["vehicle"], condition=Q(status="OPEN"), name="rental_one_open_per_vehicle"
            ),
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="OPEN"), name="rental_one_open_per_member"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="OPEN", ended_at__isnull=True, invoice__isnull=True)
                    | Q(status="ENDED", ended_at__isnull=False, invoice__isnull=False)
                ),
                name="rental_status_consistent",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="rental_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"rental {self.pk}"


class ParkedInterval(models.Model):
    """A pause of a rental, half-open ``[paused_at, resumed_at)``; open while parked.

    Intervals of one rental follow each other without overlapping: every pause, resume and
    end takes the rental's row lock first, so they are recorded one at a time, in order.
    """

    rental = models.ForeignKey(Rental, on_delete=models.PROTECT, related_name="parked_intervals")
    paused_at = models.DateTimeField()
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rental"],
                condition=Q(resumed_at__isnull=True),
                name="parked_interval_one_open_per_rental",
            ),
            models.CheckConstraint(
                condition=Q(resumed_at__isnull=True) | Q(resumed_at__gte=models.F("paused_at")),
                name="parked_interval_resumes_after_pause",
            ),
        ]

    def __str__(self) -> str:
        return f"rental {self.rental_id} parked from {self.paused_at.isoformat()}"


class MemberCharge(models.Model):
    """A one-off charge of a member (a fee, a cost passed through), invoiced when recorded.

    The invoice's subject: one charge, one invoice. Kept with rentals because a charge may
    relate to a rental (cleaning after it, a late return).
    """

    member = models.ForeignKey("fleet.Member", on_delete=models.PROTECT, related_name="charges")
    # The zone whose currency, VAT and invoice series bill it.
    zone = models.ForeignKey("fleet.Zone", on_delete=models.PROTECT, related_name="+")
    rental = models.ForeignKey(
        Rental, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    note = models.TextField(blank=True, default="")
    charged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The charging request's Idempotency-Key: the same request never charges twice.
    request_key = models.CharField(max_length=255, blank=True, default="")
    # SHA-256 of what was asked (lines, rental, note): a reused key is told apart from a retry.
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    charged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["charged_by", "request_key"],
                condition=~Q(request_key=""),
                name="member_charge_unique_request_key",
            ),
        ]

    def __str__(self) -> str:
        return f"charge {self.pk}"


class MemberChargeLine(models.Model):
    """One line of a member charge as it was asked: the catalogue fee, how much, which cost.

    ``fee`` is the version of the zone's fee that priced it (a fee once charged is never
    edited: a database trigger refuses it on PostgreSQL); a line given with its own price
    has none. ``amount`` is the amount of a cost passed through, ``external_reference`` what
    identifies it outside (a fine's notice number).
    """

    charge = models.ForeignKey(MemberCharge, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    fee = models.ForeignKey(
        "fleet.Fee", on_delete=models.PROTECT, null=True, blank=True, related_name="charge_lines"
    )
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    external_reference = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["charge", "position"], name="member_charge_line_unique_pos"
            ),
        ]

    def __str__(self) -> str:
        return f"charge {self.charge_id}#{self.position}"
