"""The outbox end to end: what a use case enqueues, and what the workers then do with it.

A rental ended over the use case defers its jobs in the ending transaction; a real
procrastinate worker (on PostgreSQL with its own connections, on SQLite over the in-memory
queue) then renders and stores the PDF, e-mails the link, and delivers the signed events to
a receiver on loopback.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone

from billing import invoicing
from billing.models import Invoice, StoredDocument
from core import outbox
from rentals import lifecycle
from tests.documents import reset_jobs, run_jobs
from tests.factories import (
    MORNING,
    MemberFactory,
    TariffFactory,
    UserFactory,
    VehicleFactory,
    ZoneFactory,
)
from tests.receiver import Receiver, event_types
from webhooks import endpoints, tasks
from webhooks.models import Delivery, Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jobs():
    reset_jobs()
    yield
    reset_jobs()


@pytest.fixture
def loopback_webhooks(settings):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "ALLOW_HTTP": True,
        "ALLOW_PRIVATE_ADDRESSES": True,
        "BACKOFF_SECONDS": 0.5,
        "TIMEOUT_SECONDS": 5,
    }


def _end_a_rental(member):
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    vehicle = VehicleFactory(zone=zone)
    started = MORNING
    rental = lifecycle.start_rental(
        member=member, plate=vehicle.plate, started_at=None, now=started
    )
    return lifecycle.end_rental(
        member=member, rental_id=rental.pk, ended_at=None, now=started + timedelta(minutes=20)
    )


def test_a_rental_ended_renders_mails_and_delivers_every_event_after_commit(
    jobs, loopback_webhooks
):
    member = MemberFactory(user__email="alice@example.org")
    with Receiver(endpoints.new_secret()) as receiver:
        endpoints.register_endpoint(
            url=receiver.url,
            event_types=[
                "rental.started",
                "rental.ended",
                "invoice.issued",
                "credit_note.issued",
                "document.rendered",
            ],
            secret=receiver.secret,
            description="",
            created_by_id=UserFactory().pk,
            now=timezone.now(),
        )
        rental = _end_a_rental(member)
        note = invoicing.issue_credit_note(
            invoice_number=rental.invoice.number,
            amount=Decimal("1.00"),
            reason="goodwill",
            issued_by_id=UserFactory().pk,
        )
        # Nothing ran yet: the work waits for the workers.
        assert StoredDocument.objects.count() == 0

        run_jobs()

        received = receiver.snapshot()

    invoice = Invoice.objects.get(pk=rental.invoice_id)
    assert StoredDocument.objects.filter(invoice=invoice).count() == 1
    assert StoredDocument.objects.filter(credit_note=note).count() == 1
    assert event_types(received) == [
        "credit_note.issued",
        "document.rendered",
        "document.rendered",
        "invoice.issued",
        "rental.ended",
        "rental.started",
    ]
    assert received.bad_signatures == 0
    assert set(received.log) == set(Event.objects.values_list("id", flat=True))
    assert f"invoice.issued:{invoice.number}" in received.log
    assert received.log[f"rental.ended:{rental.pk}"]["data"]["total"] == "8.00"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED"}
    # One e-mail per document, to the member, with the document's one-click link.
    assert sorted(message.subject.split(" — ")[0] for message in mail.outbox) == [
        f"Votre avoir {note.number}",
        f"Votre facture {invoice.number}",
    ]
    assert all(message.to == ["alice@example.org"] for message in mail.outbox)
    assert any(f"/api/invoices/{invoice.number}/pdf/?sesame=" in m.body for m in mail.outbox)


def test_a_rolled_back_issue_enqueues_nothing(jobs):
    user = UserFactory()
    from core.transactions import run_in_transaction
    from tests.invoices import charge

    class Abandoned(Exception):
        pass

    def issue_then_fail():
        invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="A", billing_address="Paris"
            ),
            charge=charge(),
            series=invoicing.numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=1,
        )
        raise Abandoned

    with pytest.raises(Abandoned):
        run_in_transaction(issue_then_fail)

    assert Invoice.objects.count() == 0
    assert _queued() == []
    run_jobs()
    assert StoredDocument.objects.count() == 0


def _queued() -> list[str]:
    connector = outbox.app().connector
    if hasattr(connector, "jobs"):
        return [job["task_name"] for job in connector.jobs.values()]
    from procrastinate.contrib.django.models import ProcrastinateJob

    return list(ProcrastinateJob.objects.values_list("task_name", flat=True))


def test_a_receiver_that_keeps_failing_gets_the_delivery_marked_failed_and_resendable(
    jobs, loopback_webhooks, settings
):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "MAX_ATTEMPTS": 3}
    with Receiver(endpoints.new_secret(), fail_always=True) as receiver:
        endpoints.register_endpoint(
            url=receiver.url,
            event_types=["rental.started"],
            secret=receiver.secret,
            description="",
            created_by_id=UserFactory().pk,
            now=timezone.now(),
        )
        zone = ZoneFactory()
        TariffFactory(zone=zone)
        lifecycle.start_rental(
            member=MemberFactory(),
            plate=VehicleFactory(zone=zone).plate,
            started_at=None,
            now=timezone.now(),
        )
        run_jobs()
        delivery = Delivery.objects.get()
        # The first attempt failed; the next ones are scheduled by the back-off.
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            "PENDING",
            1,
            500,
        )

        # Attempts 2 and 3, as the worker makes them once their back-off (1 s) is over.
        deadline = time.monotonic() + 30
        while delivery.status == "PENDING" and time.monotonic() < deadline:
            time.sleep(0.2)
            run_jobs()
            delivery.refresh_from_db()

        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("FAILED", 3)
        assert len(receiver.snapshot().requests) == 3

        receiver.fail_always = False
        endpoints.resend_delivery(delivery_id=delivery.pk)
        run_jobs()
        received = receiver.snapshot()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("DELIVERED", 4)
    assert list(received.log) == [delivery.event_id]


def test_the_back_off_doubles_from_the_setting(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "BACKOFF_SECONDS": 30}
    strategy = tasks.Backoff()

    waits = [
        strategy.get_retry_decision(
            exception=RuntimeError(), job=SimpleNamespace(attempts=attempts)
        ).retry_at
        for attempts in range(4)
    ]

    now = timezone.now()
    assert [round((at - now).total_seconds() / 30) for at in waits] == [1, 2, 4, 8]
