"""Record raised events once and fan each out to the endpoints that subscribe to it.

Events are raised with ``core.events.publish`` (one job row in the raiser's transaction);
the worker that runs that job records the event under its stable id and defers one
delivery job per subscribed endpoint, in one transaction of its own. Recording the same
event twice is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from core import outbox, transactions
from webhooks.models import Delivery, Endpoint, Event

DELIVER_TASK = "webhooks.deliver"


def record(*, event_id: str, event_type: str, occurred_at: datetime, data: dict[str, Any]) -> Event:
    """Record an event once and defer its deliveries; join the caller's transaction.

    Raises:
        RuntimeError: outside a transaction.
    """
    transactions.require_transaction("webhooks.events.record")
    now = timezone.now()
    event, created = Event.objects.get_or_create(
        id=event_id,
        defaults={"type": event_type, "occurred_at": occurred_at, "data": data, "recorded_at": now},
    )
    if not created:
        return event
    for endpoint in Endpoint.objects.filter(is_active=True).order_by("pk"):
        if event_type not in endpoint.events:
            continue
        delivery = Delivery.objects.create(event=event, endpoint=endpoint, created_at=now)
        schedule_delivery(delivery)
    return event


def schedule_delivery(delivery: Delivery) -> None:
    """Defer an attempt at ``delivery`` (one at a time per delivery); join the transaction."""
    outbox.enqueue(
        DELIVER_TASK,
        lock=f"webhook-delivery:{delivery.pk}",
        queueing_lock=f"webhook-delivery:{delivery.pk}",
        delivery_id=delivery.pk,
    )
