"""The periodic purge of idempotency keys past their retention (was a daily cron command)."""

from __future__ import annotations

import logging

from django.utils import timezone
from procrastinate.contrib.django import app

from api.idempotency.keys import purge_expired

logger = logging.getLogger(__name__)


@app.periodic(cron="7 * * * *", periodic_id="purge_idempotency_keys")
@app.task(name="idempotency.purge_expired_keys", queueing_lock="idempotency.purge_expired_keys")
def purge_expired_keys(timestamp: int) -> int:
    """Delete idempotency keys older than ``IDEMPOTENCY["KEEP_HOURS"]`` (at least 24 hours)."""
    deleted = purge_expired(now=timezone.now())
    logger.info("deleted %s idempotency key(s)", deleted)
    return deleted
