"""The outbox: work that follows a use case, deferred in its transaction, run after commit.

A use case that issues a document or starts a rental calls ``enqueue()`` inside its
transaction: on PostgreSQL the job is a row of procrastinate's ``procrastinate_jobs`` table
written through Django's own connection, so it commits or rolls back with the use case (a
rollback enqueues nothing; a crash after commit loses nothing). Worker processes
(``manage.py procrastinate worker``, any number, on any host) run the jobs after commit.

Tasks are named by string (``"billing.document_issued"``), so code below the app that
defines a task can enqueue it without importing it.

SQLite (the zero-setup demo) cannot hold procrastinate's PostgreSQL schema: there the jobs
live in memory (procrastinate's ``InMemoryConnector``) and are handed over only after
commit, to a worker thread inside the web process (``start_in_process_worker``); they are
lost if the process stops first. That is a demo, not an outbox.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from django.db import connection, transaction
from procrastinate import App, exceptions, testing
from procrastinate.contrib.django import app as procrastinate_app
from procrastinate.contrib.django import django_connector

logger = logging.getLogger(__name__)

JSON = str | int | float | bool | None | list[Any] | dict[str, Any]
_worker_started = threading.Lock()
_worker: threading.Thread | None = None


def app() -> App:
    """Return the procrastinate app (the Django contrib's, with this project's connector)."""
    return procrastinate_app


def is_transactional() -> bool:
    """Whether deferring a job joins the current transaction (PostgreSQL) or waits for it."""
    return isinstance(app().connector, django_connector.DjangoConnector)


def enqueue(
    task_name: str,
    /,
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **kwargs: JSON,
) -> None:
    """Defer the task ``task_name`` with ``kwargs`` in the current transaction.

    ``lock`` serialises jobs sharing it (two jobs for one document never run at once);
    ``queueing_lock`` keeps at most one such job waiting (a duplicate is dropped).
    """
    deferrer = app().configure_task(task_name, lock=lock, queueing_lock=queueing_lock)

    def defer() -> None:
        try:
            if queueing_lock and is_transactional():
                # A savepoint: a job already waiting under this lock must not break the caller.
                with transaction.atomic():
                    deferrer.defer(**kwargs)
            else:
                deferrer.defer(**kwargs)
        except exceptions.AlreadyEnqueued:
            logger.info("%s already waiting (%s): not deferred again", task_name, queueing_lock)

    if is_transactional() or not connection.in_atomic_block:
        # On PostgreSQL one INSERT on the use case's connection: it commits or rolls back
        # with the use case.
        defer()
    else:
        transaction.on_commit(defer)


def enqueue_many(task_name: str, /, calls: list[dict[str, JSON]]) -> None:
    """Defer ``task_name`` once per ``calls`` item, in one statement, in the current transaction.

    For batches (an invoice run issues a thousand documents at once): one INSERT instead of
    one per job, with the same all-or-nothing as ``enqueue``.
    """
    if not calls:
        return
    deferrer = app().configure_task(task_name)

    def defer() -> None:
        deferrer.batch_defer(*calls)

    if is_transactional() or not connection.in_atomic_block:
        defer()
    else:
        transaction.on_commit(defer)


class JobsRouter:
    """Skip procrastinate's migrations where its PostgreSQL schema cannot exist (SQLite)."""

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label == "procrastinate":
            from django.db import connections

            return connections[db].vendor == "postgresql"
        return None


def on_app_ready(ready_app: App) -> None:
    """Give the app an in-memory queue on SQLite (``PROCRASTINATE_ON_APP_READY``)."""
    if connection.vendor != "postgresql":
        memory = testing.InMemoryConnector()
        ready_app.connector = memory
        ready_app.job_manager.connector = memory


def start_in_process_worker() -> None:
    """Run a worker thread in this process (the SQLite demo), once; jobs run there."""
    global _worker
    with _worker_started:
        if _worker is not None:
            return
        _worker = threading.Thread(target=_run_worker, name="outbox-worker", daemon=True)
        _worker.start()


def _run_worker() -> None:
    try:
        asyncio.run(_worker_loop())
    except Exception:
        logger.exception("the in-process worker stopped")


async def _worker_loop() -> None:
    queue = app()
    async with queue.open_async():
        await queue.run_worker_async(install_signal_handlers=False, name="in-process")
