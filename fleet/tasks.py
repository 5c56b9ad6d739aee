"""fleet's periodic job: the monthly invoice run of the passes (as ``bill_subscriptions``)."""

from __future__ import annotations

import logging

from django.utils import timezone
from procrastinate.contrib.django import app

from fleet import pass_runs

logger = logging.getLogger(__name__)


@app.periodic(cron="*/10 * * * *", periodic_id="bill_subscriptions")
@app.task(name="fleet.bill_subscriptions", queueing_lock="fleet.bill_subscriptions")
def bill_subscriptions(timestamp: int) -> int:
    """Invoice every pass period that has started, each exactly once (the periods' runs).

    Every ten minutes: a period is billed when it starts, in advance, so a member is
    invoiced at most ten minutes into a new period. Safe beside ``manage.py
    bill_subscriptions`` or another worker's run: each period is invoiced once.
    """
    now = timezone.now()
    summary = pass_runs.bill_due_subscriptions(until=now, now=now)
    if not summary.ok:
        logger.error("the pass run left period(s) unbilled: %s", summary)
    return summary.billed
