from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A client's key and the response it got, kept so that a retry replays it."""

    class Status(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        COMPLETED = "COMPLETED", "Completed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Random per claim: whoever finds its own token in the row owns the request.
    claim = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
