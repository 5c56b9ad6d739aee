from django.db import models


class LoginFailure(models.Model):
    """One failed attempt at ``POST /api/auth/token/``: the username tried, from where, when.

    Successful logins are never stored: only failures count towards a lock-out.
    """

    username = models.CharField(max_length=150)
    # The client address as NUM_PROXIES identifies it (see docs/reference/settings.md).
    address = models.CharField(max_length=100)
    failed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username", "failed_at"], name="login_failure_username"),
            models.Index(fields=["address", "failed_at"], name="login_failure_address"),
            models.Index(fields=["failed_at"], name="login_failure_failed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.failed_at.isoformat()}"
