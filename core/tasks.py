"""The outbox's own periodic jobs: take up jobs of dead workers, forget old finished jobs.

A worker killed (SIGKILL, a lost host) leaves its job ``doing`` with a heartbeat that stops;
once it has been silent for ``OUTBOX["STALLED_AFTER_SECONDS"]`` the job is put back to run
again on a live worker: every job runs at least once, which is why jobs are idempotent.
"""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate import JobContext
from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)


@app.periodic(cron=settings.OUTBOX["STALLED_CRON"], periodic_id="retry_stalled_jobs")
@app.task(
    name="core.retry_stalled_jobs", queueing_lock="core.retry_stalled_jobs", pass_context=True
)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    """Run again the jobs of workers whose heartbeat stopped."""
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.OUTBOX["STALLED_AFTER_SECONDS"]
    )
    for job in stalled:
        logger.warning("job %s (%s) of a dead worker: running it again", job.id, job.task_name)
        await manager.retry_job(job)


@app.periodic(cron="23 * * * *", periodic_id="delete_old_jobs")
@app.task(name="core.delete_old_jobs", queueing_lock="core.delete_old_jobs", pass_context=True)
async def delete_old_jobs(context: JobContext, timestamp: int) -> None:
    """Delete jobs that succeeded more than ``OUTBOX["KEEP_FINISHED_HOURS"]`` ago."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=settings.OUTBOX["KEEP_FINISHED_HOURS"], include_failed=False
    )
