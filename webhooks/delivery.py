"""Attempt one delivery: sign per Standard Webhooks, POST to the checked address, record it.

The body is the same on every attempt (the event as recorded); the ``webhook-id`` header is
the event's stable id, so a receiver keeps the first copy and ignores the others; the
``webhook-timestamp`` is the attempt's, and the signature covers id, timestamp and body
(the ``standardwebhooks`` package). Only a 2xx answer delivers: redirects are not followed
(they could lead anywhere the address check would have refused).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import F
from standardwebhooks import Webhook

from core.localtime import utc_iso
from webhooks import addresses
from webhooks.models import Delivery, Event

logger = logging.getLogger(__name__)

USER_AGENT = "carshare-billing-webhooks/1"
_KEEP_BODY = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: a status code (``None`` when no answer came) and why it failed."""

    delivered: bool
    status_code: int | None
    error: str


class DeliveryFailed(Exception):
    """One attempt did not deliver: the job is retried after its back-off."""


def body_of(event: Event) -> bytes:
    """Return the event as receivers get it: ``{"type", "timestamp", "data"}`` in JSON."""
    return json.dumps(
        {"type": event.type, "timestamp": utc_iso(event.occurred_at), "data": event.data},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def signed_headers(*, secret: str, event_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """Return the Standard Webhooks headers of one attempt."""
    at = at.astimezone(UTC)
    signature = Webhook(secret).sign(event_id, at, body.decode("utf-8"))
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def attempt(delivery: Delivery, *, now: datetime) -> Outcome:
    """POST the delivery's event to its endpoint once and record the attempt."""
    event, endpoint = delivery.event, delivery.endpoint
    body = body_of(event)
    try:
        target = addresses.check(endpoint.url)
        outcome = post(
            target,
            body,
            signed_headers(secret=endpoint.secret, event_id=event.id, at=now, body=body),
        )
    except addresses.WebhookUrlRefused as exc:
        outcome = Outcome(delivered=False, status_code=None, error=exc.message)
    record(delivery, outcome, now=now)
    return outcome


def post(target: addresses.Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """Send one request to the checked address (Host and SNI name the URL's host)."""
    timeout = settings.WEBHOOKS["TIMEOUT_SECONDS"]
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    connection._create_connection = _pinned(target)  # type: ignore[attr-defined]
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(_KEEP_BODY).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(delivered=False, status_code=None, error=f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Outcome(delivered=True, status_code=response.status, error="")
    return Outcome(delivered=False, status_code=response.status, error=answer)


def record(delivery: Delivery, outcome: Outcome, *, now: datetime) -> None:
    """Count the attempt and keep its result; a delivered delivery stays delivered."""
    changes: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:_KEEP_BODY],
    }
    if outcome.delivered:
        changes.update(status=Delivery.Status.DELIVERED, delivered_at=now)
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.DELIVERED).update(
        **changes
    )


def _pinned(target: addresses.Target) -> Any:
    def create_connection(
        address: tuple[str, int], timeout: float | None = None, source: Any = None
    ) -> socket.socket:
        return socket.create_connection((target.address, target.port), timeout, source)

    return create_connection
