"""The webhooks' jobs: record an event and fan it out, and attempt one delivery.

``webhooks.deliver`` is retried with exponential back-off (``WEBHOOKS["BACKOFF_SECONDS"]``
doubled at each attempt) until ``WEBHOOKS["MAX_ATTEMPTS"]`` attempts of the job have failed;
the delivery is then marked FAILED, which finance sees in the API and the admin, and can
send again. A worker killed mid-attempt leaves its job to be taken up again (at least
once); receivers deduplicate by the ``webhook-id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from core import events as core_events
from core import transactions
from webhooks import delivery as delivery_module
from webhooks import events
from webhooks.models import Delivery


class Backoff(BaseRetryStrategy):
    """Wait BACKOFF_SECONDS * 2**n after the n-th failed attempt (settings read each time)."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        wait = settings.WEBHOOKS["BACKOFF_SECONDS"] * 2 ** (job.attempts or 0)
        return RetryDecision(retry_in={"seconds": int(wait) or 1})


@app.task(name=core_events.RECORD_TASK, retry=RetryStrategy(max_attempts=10, exponential_wait=2))
def record_event(event_id: str, event_type: str, occurred_at: str, data: dict[str, Any]) -> None:
    """Record a published event once and defer its deliveries."""
    at = datetime.fromisoformat(occurred_at)
    transactions.run_in_transaction(
        lambda: events.record(event_id=event_id, event_type=event_type, occurred_at=at, data=data)
    )


@app.task(name=events.DELIVER_TASK, retry=Backoff(), pass_context=True)
def deliver(context: JobContext, delivery_id: int) -> None:
    """Attempt a pending delivery; mark it FAILED once out of attempts.

    Raises:
        delivery_module.DeliveryFailed: this attempt failed and another one will follow.
    """
    pending = (
        Delivery.objects.select_related("event", "endpoint")
        .filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .first()
    )
    if pending is None:
        return  # delivered meanwhile, or no longer wanted
    if not pending.endpoint.is_active:
        _fail(pending, "The endpoint was deactivated.")
        return
    outcome = delivery_module.attempt(pending, now=timezone.now())
    if outcome.delivered:
        return
    job = context.job
    if job is not None and (job.attempts or 0) + 1 >= settings.WEBHOOKS["MAX_ATTEMPTS"]:
        _fail(pending, outcome.error)
        return
    raise delivery_module.DeliveryFailed(
        f"delivery {delivery_id}: {outcome.status_code or 'no answer'} {outcome.error[:200]}"
    )


def _fail(delivery: Delivery, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, last_error=reason[:500]
    )
