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
