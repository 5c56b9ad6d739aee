"""Login throttling: failed attempts counted per username and per client address.

Only failures count, so members logging in are never slowed down by each other, and a
guesser hammering a username that does not exist locks out that username only. The
trade-off, chosen on purpose: once a username is locked, even its right password is refused
until the window has passed (429 with Retry-After), or a guesser could keep trying
passwords and learn from the answer which one is right. Someone who knows a member's
username can thus keep that member out by failing on purpose; the per-address limit bounds
how fast one client can do so, and a lock lasts one window, not forever.

Counts are read, then a failure is written: two attempts racing may both pass at the limit,
so a lock-out may come one or two attempts late under concurrency. That slack is bounded by
the number of concurrent requests, not by time.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from rest_framework.exceptions import Throttled

from api.models import LoginFailure

ADDRESS_MAX_LENGTH = 100
USERNAME_MAX_LENGTH = 150


class LoginThrottled(Throttled):
    """Too many failed logins for the username or from the address (HTTP 429, Retry-After)."""


def _window() -> timedelta:
    return timedelta(seconds=int(settings.LOGIN_THROTTLE["WINDOW_SECONDS"]))


def refuse_if_locked(*, username: str, address: str, now: datetime) -> None:
    """Refuse a login attempt while the username or the address has too many recent failures.

    Raises:
        LoginThrottled: with the seconds to wait until one more attempt is allowed.
    """
    limits = settings.LOGIN_THROTTLE
    checks = (
        ("username", username, int(limits["FAILURES_PER_USERNAME"]), "for this username"),
        ("address", address, int(limits["FAILURES_PER_ADDRESS"]), "from this address"),
    )
    window = _window()
    for column, value, limit, where in checks:
        # The limit-th most recent failure in the window: once it leaves the window, one
        # attempt is allowed again.
        recent = (
            LoginFailure.objects.filter(**{column: value}, failed_at__gt=now - window)
            .order_by("-failed_at")
            .values_list("failed_at", flat=True)[limit - 1 : limit]
        )
        for failed_at in recent:
            wait = max(1, math.ceil((failed_at + window - now).total_seconds()))
            raise LoginThrottled(wait=wait, detail=f"Too many failed logins {where}; retry later.")


def record_failure(*, username: str, address: str, at: datetime) -> None:
    """Count one failed login for the username and the address."""
    LoginFailure.objects.create(
        username=username[:USERNAME_MAX_LENGTH], address=address[:ADDRESS_MAX_LENGTH], failed_at=at
    )


def purge_old_failures(*, now: datetime) -> int:
    """Delete failures kept past ``LOGIN_THROTTLE["KEEP_HOURS"]`` (never inside the window).

    Return how many were deleted.
    """
    keep = max(_window(), timedelta(hours=int(settings.LOGIN_THROTTLE["KEEP_HOURS"])))
    deleted, _ = LoginFailure.objects.filter(failed_at__lte=now - keep).delete()
    return deleted
