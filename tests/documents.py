"""Helpers for tests about documents: stored files without rendering, running the outbox."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.utils import timezone

from billing.documents import store
from billing.models import CreditNote, Invoice, StoredDocument


def fake_stored_document(
    document: Invoice | CreditNote, data: bytes | None = None
) -> StoredDocument:
    """Store a stand-in file for ``document`` (for tests about access, not about rendering)."""
    data = data if data is not None else f"%PDF-1.7 stand-in for {document.number}".encode()
    name = store.documents_storage().save(store.storage_name(document), ContentFile(data))
    return StoredDocument.objects.create(
        **{store.kind_of(document): document},
        storage_name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        renderer="test stand-in",
        rendered_at=timezone.now(),
    )


def run_jobs(*, rounds: int = 10) -> None:
    """Run every job that is due, and those they defer, with a real procrastinate worker.

    Needs committed data (``django_db(transaction=True)``): the worker's connections (its
    own on PostgreSQL) see only what was committed.
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    from core import outbox

    app = outbox.app()
    connector = app.connector
    worker_connector = connector.get_worker_connector() if outbox.is_transactional() else connector
    # Tasks run in the worker's threads, whose connections are closed after each task only
    # when they are not persistent: none must outlive the test (its database is dropped).
    database = connections.settings[DEFAULT_DB_ALIAS]
    kept, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    try:
        with app.replace_connector(worker_connector):
            for _ in range(rounds):
                app.run_worker(
                    wait=False, install_signal_handlers=False, listen_notify=False, concurrency=1
                )
                if not _pending():
                    return
    finally:
        database["CONN_MAX_AGE"] = kept


def _pending() -> bool:
    from core import outbox

    connector = outbox.app().connector
    if hasattr(connector, "jobs"):  # the in-memory queue (SQLite)
        return any(job["status"] == "todo" for job in connector.jobs.values())
    from procrastinate.contrib.django.models import ProcrastinateJob

    return ProcrastinateJob.objects.filter(status="todo", scheduled_at__isnull=True).exists()


def reset_jobs() -> None:
    """Forget every job: the test database is flushed between tests, the queue is not."""
    from django.db import connection

    from core import outbox

    connector = outbox.app().connector
    if hasattr(connector, "reset"):
        connector.reset()
        return
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers CASCADE")
