"""billing's jobs, run by the workers after the issuing transaction committed (core.outbox).

- ``billing.document_issued``: raise ``invoice.issued`` / ``credit_note.issued``, then render
  and store the document's file (which raises ``document.rendered`` and defers its e-mail);
- ``billing.email_document``: e-mail the member the one-click link to the stored file;
- ``billing.close_due_periods`` (periodic): the closings of the periods that have ended.

Each step is idempotent, so a job run again (a retry, a worker killed mid-way and its job
taken up by another) finishes the work without doing any of it twice.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from billing import money
from billing.accounting import closings
from billing.documents import mail, store
from billing.models import CreditNote, Invoice
from core import events, transactions
from core.localtime import utc_iso

# Rendering and mail fail for passing reasons (a database restart, the mail server):
# 10 attempts over about 40 minutes, then the job is marked failed in procrastinate_jobs.
RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)


@app.task(name="billing.document_issued", retry=RETRY)
def document_issued(kind: str, document_id: int) -> None:
    """Raise the document's issued event, then render and store its file once."""
    document = store.load(kind, document_id)
    transactions.run_in_transaction(
        lambda: events.publish(
            event_type=f"{kind}.issued",
            subject=document.number,
            occurred_at=document.issued_at,
            data=issued_event_data(document),
        )
    )
    store.render_and_store(document)


@app.task(name="billing.email_document", retry=RETRY)
def email_document(kind: str, document_id: int) -> None:
    """E-mail the member the link to the stored document (once)."""
    mail.email_document(kind=kind, document_id=document_id, now=timezone.now())


def issued_event_data(document: Invoice | CreditNote) -> dict[str, Any]:
    """Return the body of ``invoice.issued`` or ``credit_note.issued``."""
    currency = document.currency
    data: dict[str, Any] = {
        "number": document.number,
        "series": document.series,
        "issued_at": utc_iso(document.issued_at),
        "net": money.format_amount(document.net, currency),
        "vat": money.format_amount(document.vat, currency),
        "total": money.format_amount(document.total, currency),
        "currency": currency,
        "hash": document.hash,
    }
    if isinstance(document, Invoice):
        data["member"] = document.member_id
        data["rental"] = document.subject_id if document.subject_kind == "rental" else None
        data["subject"] = {"kind": document.subject_kind, "id": document.subject_id}
    else:
        data["invoice"] = document.invoice.number
        data["member"] = document.invoice.member_id
    data["pdf"] = store.pdf_path(store.kind_of(document), document.number)
    return data


@app.periodic(cron="*/15 * * * *", periodic_id="close_due_periods")
@app.task(name="billing.close_due_periods", queueing_lock="billing.close_due_periods")
def close_due_periods(timestamp: int) -> int:
    """Close the days, months and fiscal years that have ended (as ``manage.py close_period``).

    Every quarter of an hour, so that a zone whose day ends on a quarter hour (Kathmandu,
    Chatham) closes it soon after; idempotent, so a run that overlaps another closes nothing
    twice.
    """
    made = closings.close_due_periods(now=timezone.now())
    return len(made)
