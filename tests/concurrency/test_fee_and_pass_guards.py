"""PostgreSQL triggers guard what raw SQL could change: charged fees, sold passes, billed periods,
and lines of issued invoices (a batch's own lines are accepted, no others)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from billing import invoicing, numbering
from billing.models import Invoice
from fleet import fees, pass_runs, passes
from fleet.models import Fee, PassProduct, SubscriptionPeriod
from rentals import charges as member_charges
from tests.factories import MemberFactory, TariffFactory, UserFactory, ZoneFactory
from tests.invoices import charge, issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def paris():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    return zone


def publish_cleaning(zone):
    return fees.publish_fee(
        zone=zone, code="cleaning", label="Cleaning", unit_price=Decimal("25.00"),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC), now=NOW,
    )  # fmt: skip


def execute(statement, params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE fleet_fee SET unit_price = 1 WHERE id = %s", "DELETE FROM fleet_fee WHERE id = %s"],
    ids=["update", "delete"],
)
def test_raw_sql_cannot_change_a_fee_a_member_was_charged(paris, statement):
    fee = publish_cleaning(paris)
    member_charges.charge_member(
        member=MemberFactory(), zone=paris, lines=[member_charges.CatalogueFee(code="cleaning")],
        charged_by_id=UserFactory().pk, now=NOW,
    )  # fmt: skip

    with pytest.raises(DatabaseError, match="has been charged"):
        execute(statement, [fee.pk])
    assert Fee.objects.get(pk=fee.pk).unit_price == Decimal("25.00")


def test_a_fee_never_charged_can_still_be_corrected(paris):
    fee = publish_cleaning(paris)

    execute("UPDATE fleet_fee SET unit_price = 20 WHERE id = %s", [fee.pk])

    assert Fee.objects.get(pk=fee.pk).unit_price == Decimal("20.00")


@pytest.fixture
def sold(paris):
    product = passes.publish_pass(
        zone=paris, code="monthly", label="Monthly", monthly_price=Decimal("19.90"),
        plan="standard", now=NOW,
    )  # fmt: skip
    passes.subscribe(
        member=MemberFactory(), product=product, start_date=date(2026, 3, 2),
        subscribed_by_id=UserFactory().pk, now=NOW,
    )  # fmt: skip
    return product


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE fleet_passproduct SET monthly_price = 9 WHERE id = %s",
        "UPDATE fleet_passproduct SET plan = 'gold' WHERE id = %s",
        "DELETE FROM fleet_passproduct WHERE id = %s",
    ],
    ids=["price", "plan", "delete"],
)
def test_raw_sql_cannot_change_a_pass_someone_subscribed_to(sold, statement):
    with pytest.raises(DatabaseError, match="has subscribers"):
        execute(statement, [sold.pk])


def test_a_subscribed_pass_can_still_be_taken_off_sale(sold):
    execute("UPDATE fleet_passproduct SET on_sale = false WHERE id = %s", [sold.pk])

    assert PassProduct.objects.get(pk=sold.pk).on_sale is False


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE fleet_subscriptionperiod SET index = 7 WHERE id = %s",
        "DELETE FROM fleet_subscriptionperiod WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_raw_sql_cannot_change_or_delete_a_billed_period(sold, statement):
    pass_runs.bill_due_subscriptions(until=NOW, now=NOW)
    (period,) = SubscriptionPeriod.objects.all()

    with pytest.raises(DatabaseError, match="is billed"):
        execute(statement, [period.pk])
    assert Invoice.objects.filter(subject_id=period.pk).exists()


def test_a_batch_inserts_lines_for_each_of_its_invoices_but_not_for_an_earlier_one():
    user = UserFactory()
    earlier = issue(user.pk)
    requests = [
        invoicing.InvoiceRequest(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="Alice", billing_address="Paris"
            ),
            charge=charge(),
            subject_kind="test-batch",
            subject_id=subject,
        )
        for subject in range(60)  # above core.bulk.COPY_FROM: the COPY path
    ]

    with transaction.atomic():
        batch = invoicing.issue_invoices(
            requests=requests, series=numbering.SeriesRule(prefix="PAR")
        )
        assert len(batch.invoices) == 60
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            execute(
                "INSERT INTO billing_invoiceline (invoice_id, position, kind, description,"
                " amount, unit, vat_exemption, details) VALUES (%s, 9, 'FEE', 'x', 1, 'unit',"
                " '', '{}')",
                [earlier.pk],
            )

    assert Invoice.objects.get(pk=earlier.pk).lines.count() == len(charge().lines)
    assert all(issued.invoice.lines.count() == len(charge().lines) for issued in batch.invoices)
