"""Gapless numbers, hash chain, immutability in the ORM, credit notes, series by local year."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import audit, invoicing, numbering
from billing.canonical import GENESIS_HASH, document_hash, invoice_content
from billing.immutability import ImmutableDocument
from billing.models import CreditNote, Invoice
from core import clock
from core.transactions import run_in_transaction
from tests.factories import UserFactory
from tests.invoices import charge, issue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user():
    return UserFactory()


def test_numbers_run_1_2_3_in_a_series_and_chain_their_hashes(user):
    invoices = [issue(user.pk) for _ in range(3)]

    assert [inv.sequence for inv in invoices] == [1, 2, 3]
    year = invoices[0].issued_at.astimezone(numbering.ZoneInfo("Europe/Paris")).year
    assert [inv.number for inv in invoices] == [f"PAR-{year}-00000{n}" for n in (1, 2, 3)]
    assert invoices[0].previous_hash == GENESIS_HASH
    assert invoices[1].previous_hash == invoices[0].hash
    assert invoices[2].previous_hash == invoices[1].hash
    stored = Invoice.objects.get(pk=invoices[1].pk)
    assert document_hash(invoice_content(stored, stored.lines.all())) == stored.hash


def test_the_invoice_carries_net_vat_total_and_lines_that_sum_to_it(user):
    invoice = issue(user.pk, minutes=20)

    # 20 day minutes at 0.35 = 7.00, plus 1.00: 8.00 including 20 % VAT.
    assert invoice.total == Decimal("8.00")
    assert invoice.net == Decimal("6.67")
    assert invoice.vat == Decimal("1.33")
    assert sum(line.amount for line in invoice.lines.all()) == invoice.total
    assert invoice.seller_vat_id


def test_a_failure_after_the_number_is_taken_leaves_no_gap(user):
    issue(user.pk)

    class Boom(Exception):
        pass

    def fail_after_numbering():
        invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="A", billing_address="B"
            ),
            charge=charge(),
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=999_999,
        )
        raise Boom("crash before commit")

    with pytest.raises(Boom):
        run_in_transaction(fail_after_numbering)
    after = issue(user.pk)

    assert after.sequence == 2
    assert audit.audit_sequences()[0].clean


def test_issue_invoice_refuses_to_run_outside_a_transaction(user):
    with pytest.raises(RuntimeError):
        invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="A", billing_address="B"
            ),
            charge=charge(),
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=1,
        )


def test_the_same_subject_is_never_invoiced_twice(user):
    from django.db import IntegrityError

    issue(user.pk, subject_id=42)

    with pytest.raises(IntegrityError):
        issue(user.pk, subject_id=42)
    assert issue(user.pk).sequence == 2


@pytest.mark.parametrize(
    ("issued_at", "series"),
    [
        (datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC), "PAR-2026"),
        (datetime(2026, 12, 31, 23, 0, 0, tzinfo=UTC), "PAR-2027"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "PAR-2027"),
    ],
    ids=["last-second-of-2026-in-paris", "paris-midnight", "utc-2026-but-paris-2027"],
)
def test_series_roll_over_at_local_midnight_of_1_january(user, monkeypatch, issued_at, series):
    monkeypatch.setattr(clock, "read_database_clock", lambda: issued_at)

    invoice = issue(user.pk)

    assert invoice.series == series
    assert invoice.number == f"{series}-000001"
    assert invoice.issued_at == issued_at


def test_a_year_turning_while_waiting_for_the_counter_retries_in_the_new_series(user, monkeypatch):
    readings = iter(
        [
            datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC),  # before the lock: 2026 in Paris
            datetime(2026, 12, 31, 23, 0, 1, tzinfo=UTC),  # after it: 2027; retry whole
            datetime(2026, 12, 31, 23, 0, 2, tzinfo=UTC),
            datetime(2026, 12, 31, 23, 0, 2, tzinfo=UTC),
        ]
    )
    monkeypatch.setattr(clock, "read_database_clock", lambda: next(readings))

    invoice = issue(user.pk)

    assert invoice.number == "PAR-2027-000001"
    assert not Invoice.objects.filter(series="PAR-2026").exists()
    assert sequences_last("PAR-2026") is None


def sequences_last(name):
    from sequences import get_last_value

    return get_last_value(name)


def test_a_continuous_series_is_named_by_its_prefix_alone(user):
    invoice = issue(user.pk, prefix="LYO", yearly=False)

    assert invoice.number == "LYO-000001"


def test_the_orm_refuses_to_change_or_delete_an_issued_invoice(user):
    invoice = issue(user.pk)
    invoice.total = Decimal("0.01")

    with pytest.raises(ImmutableDocument):
        invoice.save()
    with pytest.raises(ImmutableDocument):
        invoice.delete()
    with pytest.raises(ImmutableDocument):
        Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("0.01"))
    with pytest.raises(ImmutableDocument):
        Invoice.objects.all().delete()
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("8.00")


def test_a_user_with_invoices_cannot_be_deleted(user):
    from django.db.models import ProtectedError

    issue(user.pk)

    with pytest.raises(ProtectedError):
        user.delete()


def test_credit_notes_have_their_own_series_and_never_exceed_the_invoice(user):
    invoice = issue(user.pk)

    first = invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal("3.00"),
        reason="dirty car",
        issued_by_id=user.pk,
    )
    second = invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal("5.00"),
        reason="rest",
        issued_by_id=user.pk,
    )
    with pytest.raises(invoicing.CreditExceedsInvoice):
        invoicing.issue_credit_note(
            invoice_number=invoice.number,
            amount=Decimal("0.01"),
            reason="too much",
            issued_by_id=user.pk,
        )

    assert first.number == f"AV-{invoice.series}-000001"
    assert second.number == f"AV-{invoice.series}-000002"
    assert second.previous_hash == first.hash
    assert (first.net, first.vat) == (Decimal("2.50"), Decimal("0.50"))
    assert CreditNote.objects.count() == 2
    assert all(report.clean for report in audit.audit_sequences())


@pytest.mark.parametrize("amount", ["0", "-1.00", "0.001"])
def test_a_credit_note_needs_a_positive_amount_in_cents(user, amount):
    invoice = issue(user.pk)

    with pytest.raises(invoicing.InvalidCredit):
        invoicing.issue_credit_note(
            invoice_number=invoice.number,
            amount=Decimal(amount),
            reason="x",
            issued_by_id=user.pk,
        )


def test_crediting_an_unknown_invoice_is_not_found(user):
    with pytest.raises(invoicing.InvoiceNotFound):
        invoicing.issue_credit_note(
            invoice_number="PAR-1999-000001",
            amount=Decimal("1.00"),
            reason="x",
            issued_by_id=user.pk,
        )


def test_a_credit_request_key_already_used_returns_that_credit_note(user):
    invoice = issue(user.pk)
    credit = {"invoice_number": invoice.number, "amount": Decimal("3.00"), "reason": "late car"}

    first = invoicing.issue_credit_note(**credit, issued_by_id=user.pk, request_key="r-1")
    again = invoicing.issue_credit_note(**credit, issued_by_id=user.pk, request_key="r-1")
    other = invoicing.issue_credit_note(**credit, issued_by_id=user.pk, request_key="r-2")

    assert again.number == first.number
    assert other.number != first.number
    assert CreditNote.objects.count() == 2


def test_a_credit_request_key_cannot_be_reused_for_another_credit(user):
    invoice = issue(user.pk)
    invoicing.issue_credit_note(
        invoice_number=invoice.number, amount=Decimal("3.00"), reason="x",
        issued_by_id=user.pk, request_key="r-1",
    )  # fmt: skip

    with pytest.raises(invoicing.CreditRequestReused):
        invoicing.issue_credit_note(
            invoice_number=invoice.number, amount=Decimal("4.00"), reason="x",
            issued_by_id=user.pk, request_key="r-1",
        )  # fmt: skip
    assert CreditNote.objects.count() == 1


def test_a_credit_note_retried_after_its_key_was_taken_over_credits_once(user):
    from api.idempotency.models import IdempotencyKey
    from tests.conftest import client_for, staff

    invoice = issue(user.pk)
    finance = client_for(staff("finance"))
    url = f"/api/invoices/{invoice.number}/credit-notes/"
    body = {"amount": "3.00", "reason": "late car"}

    first = finance.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="cn-1")
    IdempotencyKey.objects.all().delete()  # as if its owner died before storing the answer
    retried = finance.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="cn-1")

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json()["number"] == first.json()["number"]
    assert CreditNote.objects.count() == 1
