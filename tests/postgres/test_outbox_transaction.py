"""On PostgreSQL the outbox is the issuing transaction's: its job commits or vanishes with it.

Another connection (a worker's) sees no job while the invoice is uncommitted, sees exactly
one once it committed, and none at all when the transaction rolled back.
"""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from billing import invoicing, numbering
from tests.documents import reset_jobs
from tests.factories import UserFactory
from tests.faults.servers import pg_connect
from tests.invoices import charge

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOBS = "SELECT task_name, args FROM procrastinate_jobs WHERE task_name = 'billing.document_issued'"


@pytest.fixture(autouse=True)
def empty_queue():
    reset_jobs()
    yield
    reset_jobs()


def _issue(user_id: int, subject_id: int) -> invoicing.Invoice:
    return invoicing.issue_invoice(
        member=invoicing.BillingIdentity(
            member_id=user_id, billing_name="Alice", billing_address="Paris"
        ),
        charge=charge(),
        series=numbering.SeriesRule(prefix="PAR"),
        subject_kind="test",
        subject_id=subject_id,
    )


def test_the_job_is_invisible_until_the_invoice_commits_then_there_exactly_once():
    user = UserFactory()
    seen_inside: list[list[tuple]] = []

    with pg_connect("outbox-observer") as observer:
        with transaction.atomic(durable=True):
            invoice = _issue(user.pk, 1)
            # A worker's connection, from another thread, while the transaction is open.
            thread = threading.Thread(
                target=lambda: seen_inside.append(observer.execute(JOBS).fetchall())
            )
            thread.start()
            thread.join(timeout=30)
        seen_after = observer.execute(JOBS).fetchall()

    assert seen_inside == [[]]
    assert seen_after == [
        ("billing.document_issued", {"kind": "invoice", "document_id": invoice.pk})
    ]


def test_a_rolled_back_issue_leaves_no_job_and_no_number():
    user = UserFactory()

    with pytest.raises(RuntimeError, match="abandoned"), transaction.atomic(durable=True):
        _issue(user.pk, 2)
        raise RuntimeError("abandoned after the number and the job")

    with pg_connect("outbox-observer") as observer:
        assert observer.execute(JOBS).fetchall() == []
        assert observer.execute("SELECT count(*) FROM billing_invoice").fetchone() == (0,)
