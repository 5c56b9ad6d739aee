"""The edge's periodic job: forget failed logins past their retention (was a cron command)."""

from __future__ import annotations

import logging

from django.utils import timezone
from procrastinate.contrib.django import app

from api import login_failures

logger = logging.getLogger(__name__)


@app.periodic(cron="37 * * * *", periodic_id="purge_login_failures")
@app.task(name="api.purge_login_failures", queueing_lock="api.purge_login_failures")
def purge_login_failures(timestamp: int) -> int:
    """Delete failed logins older than ``LOGIN_THROTTLE["KEEP_HOURS"]``."""
    deleted = login_failures.purge_old_failures(now=timezone.now())
    logger.info("deleted %s failed login(s)", deleted)
    return deleted
