"""Raise an event for the webhooks, from any app, in the caller's transaction.

Events are named by what happened and about what (``invoice.issued`` about
``PAR-2026-000001``), which makes their id stable: the same event raised twice (a retried
job, a worker that died after committing) is recorded once, and receivers deduplicate by
that id. Raising costs one job row in the caller's transaction (``core.outbox``); the
webhooks app records the event and delivers it after commit. Code below the webhooks app
(billing) raises events through here, by task name, without importing it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import outbox
from core.localtime import utc_iso

RECORD_TASK = "webhooks.record_event"


def event_id(event_type: str, subject: str | int) -> str:
    """Return the stable id of the event ``event_type`` about ``subject``."""
    return f"{event_type}:{subject}"


def publish(
    *, event_type: str, subject: str | int, occurred_at: datetime, data: dict[str, Any]
) -> None:
    """Raise an event in the caller's transaction: it is recorded and delivered after commit."""
    outbox.enqueue(
        RECORD_TASK,
        event_id=event_id(event_type, subject),
        event_type=event_type,
        occurred_at=utc_iso(occurred_at),
        data=data,
    )
