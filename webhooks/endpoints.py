"""Finance's use cases: register and deactivate endpoints, send a delivery again."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from datetime import datetime

from core import transactions
from core.errors import ConflictError, DomainError, NotFoundError
from webhooks import addresses, events
from webhooks.models import EVENT_TYPE_NAMES, Delivery, Endpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix


class InvalidEndpoint(DomainError):
    """No events, an unknown event type, or a secret that is not Standard Webhooks' form."""

    code = "invalid_webhook_endpoint"


class EndpointNotFound(NotFoundError):
    """No endpoint has that id."""

    code = "webhook_endpoint_not_found"


class DeliveryNotFound(NotFoundError):
    """No delivery has that id."""

    code = "webhook_delivery_not_found"


class DeliveryAlreadyDelivered(ConflictError):
    """The delivery succeeded: there is nothing to send again."""

    code = "webhook_already_delivered"


def new_secret() -> str:
    """Return a fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@transactions.use_case
def register_endpoint(
    *,
    url: str,
    event_types: Sequence[str],
    secret: str,
    description: str,
    created_by_id: int,
    now: datetime,
) -> Endpoint:
    """Register an endpoint for ``event_types``; a blank secret gets a fresh one.

    Raises:
        addresses.WebhookUrlRefused: the URL is not https or resolves to a refused address.
        InvalidEndpoint: no or unknown event types, or a malformed secret.
    """
    addresses.check(url)
    wanted = list(dict.fromkeys(event_types))
    unknown = sorted(set(wanted) - EVENT_TYPE_NAMES)
    if not wanted or unknown:
        raise InvalidEndpoint(
            f"Subscribe to one or more of {', '.join(sorted(EVENT_TYPE_NAMES))}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            field="events",
        )
    return Endpoint.objects.create(
        url=url,
        events=wanted,
        secret=_checked(secret) if secret else new_secret(),
        description=description,
        created_by_id=created_by_id,
        created_at=now,
    )


@transactions.use_case
def deactivate_endpoint(*, endpoint_id: int) -> Endpoint:
    """Stop sending to an endpoint; its pending deliveries end FAILED at their next attempt.

    Raises:
        EndpointNotFound: no such endpoint.
    """
    endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(f"No webhook endpoint {endpoint_id}.")
    endpoint.is_active = False
    endpoint.save(update_fields=["is_active"])
    return endpoint


@transactions.use_case
def resend_delivery(*, delivery_id: int) -> Delivery:
    """Send a failed (or still pending) delivery again, with a fresh round of attempts.

    Raises:
        DeliveryNotFound: no such delivery.
        DeliveryAlreadyDelivered: it was delivered.
    """
    delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        raise DeliveryNotFound(f"No webhook delivery {delivery_id}.")
    if delivery.status == Delivery.Status.DELIVERED:
        raise DeliveryAlreadyDelivered(f"Delivery {delivery_id} was delivered.")
    delivery.status = Delivery.Status.PENDING
    delivery.save(update_fields=["status"])
    events.schedule_delivery(delivery)
    return delivery


def _checked(secret: str) -> str:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 24:
        raise InvalidEndpoint(
            "A secret is 'whsec_' and at least 24 bytes in base64; leave it blank for one.",
            field="secret",
        )
    return SECRET_PREFIX + raw
