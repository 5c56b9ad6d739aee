"""Endpoints finance registers, the events the service raises, and each delivery of one to one.

An event is recorded once under a stable id that receivers use to deduplicate (the
``webhook-id`` header): delivering it again, after a retry or a worker that died, sends the
same id and the same body.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

#: The events the service raises, each with who raises it.
EVENT_TYPES = (
    ("rental.started", "A rental started (rentals)"),
    ("rental.ended", "A rental ended and was priced (rentals)"),
    ("invoice.issued", "An invoice was issued (billing)"),
    ("credit_note.issued", "A credit note was issued (billing)"),
    ("document.rendered", "The PDF of an invoice or credit note was stored (billing)"),
)
EVENT_TYPE_NAMES = frozenset(name for name, _ in EVENT_TYPES)


class Endpoint(models.Model):
    """A URL that receives the events it subscribes to, signed with its secret."""

    url = models.URLField(max_length=2000)
    # A list of event type names.
    events = models.JSONField()
    # Standard Webhooks' form: "whsec_" + base64 of the key.
    secret = models.CharField(max_length=100)
    description = models.CharField(max_length=200, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"endpoint {self.pk} ({self.url})"


class Event(models.Model):
    """Something that happened, as its receivers get it; its id is stable across retries."""

    id = models.CharField(max_length=100, primary_key=True)
    type = models.CharField(max_length=40, choices=EVENT_TYPES)
    occurred_at = models.DateTimeField()
    data = models.JSONField()
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["occurred_at"], name="webhook_event_occurred_at")]

    def __str__(self) -> str:
        return self.id


class Delivery(models.Model):
    """One event to one endpoint: attempted until delivered or out of attempts."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        DELIVERED = "DELIVERED", "Delivered"
        FAILED = "FAILED", "Failed"

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_unique_pair"),
            models.CheckConstraint(
                condition=Q(status="DELIVERED", delivered_at__isnull=False)
                | (~Q(status="DELIVERED") & Q(delivered_at__isnull=True)),
                name="delivery_delivered_at_iff_delivered",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_status")]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id}"
