"""Monthly passes billed by invoice runs: each period once, in batches, failures isolated."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing import audit, exports, invoicing, queries, runs
from billing.models import Invoice
from fleet import pass_runs, passes
from fleet.models import PassProduct, Subscription, SubscriptionPeriod
from tests.factories import MemberFactory, TariffFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.django_db

SOLD_AT = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def paris():
    zone = ZoneFactory()
    TariffFactory(zone=zone)
    TariffFactory(zone=zone, plan="pass", unlock_fee=Decimal("0.00"))
    return zone


@pytest.fixture
def product(paris):
    return passes.publish_pass(
        zone=paris,
        code="monthly",
        label="Paris monthly pass",
        monthly_price=Decimal("19.90"),
        plan="pass",
        now=SOLD_AT,
    )


def subscribe(product, start_date, member=None, now=SOLD_AT):
    return passes.subscribe(
        member=member or MemberFactory(),
        product=product,
        start_date=start_date,
        subscribed_by_id=UserFactory().pk,
        now=now,
    )


def bill(until, *, now=None, **options):
    return pass_runs.bill_due_subscriptions(until=until, now=now or until, **options)


def paris_midnight(day):
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=1)


def test_a_run_bills_each_due_period_once_with_a_monthly_pass_line_at_the_zones_vat(product):
    subscription = subscribe(product, date(2026, 1, 31))

    summary = bill(datetime(2026, 3, 1, tzinfo=UTC))

    assert (summary.billed, summary.skipped, summary.failures) == (2, 0, [])
    invoices = list(Invoice.objects.order_by("sequence"))
    assert [invoice.number for invoice in invoices] == ["PAR-2026-000001", "PAR-2026-000002"]
    first, second = (queries.lines_of(invoice)[0] for invoice in invoices)
    assert (first.kind, first.description, first.unit, first.amount, first.vat_rate) == (
        "MONTHLY_PASS",
        "Paris monthly pass, 2026-01-31 to 2026-02-27",
        "month",
        Decimal("19.90"),
        Decimal("0.20"),
    )
    assert second.description == "Paris monthly pass, 2026-02-28 to 2026-03-30"
    assert (invoices[0].net, invoices[0].vat) == (Decimal("16.58"), Decimal("3.32"))
    periods = list(SubscriptionPeriod.objects.order_by("index"))
    assert [(p.index, p.starts_at) for p in periods] == [
        (0, paris_midnight(date(2026, 1, 31))),
        (1, paris_midnight(date(2026, 2, 28))),
    ]
    assert [(i.subject_kind, i.subject_id) for i in invoices] == [
        ("subscription_period", p.pk) for p in periods
    ]
    subscription.refresh_from_db()
    assert subscription.next_period_index == 2
    assert audit.audit_sequences()[0].clean


def test_running_again_bills_nothing_twice_and_counts_what_it_skipped(product):
    for _ in range(3):
        subscribe(product, date(2026, 2, 1))
    until = datetime(2026, 2, 10, tzinfo=UTC)

    first = bill(until)
    again = bill(until)

    assert (first.billed, first.skipped) == (3, 0)
    assert (again.billed, again.skipped, again.failures) == (0, 3, [])
    assert Invoice.objects.count() == 3


def test_a_period_is_billed_once_it_has_started_not_before(product):
    subscribe(product, date(2026, 2, 1))
    starts = paris_midnight(date(2026, 2, 1))

    assert bill(starts).billed == 0  # [start, ...) has not started before its first instant
    assert bill(starts + timedelta(microseconds=1)).billed == 1


def test_batches_take_their_numbers_together_and_chain_in_number_order(product):
    for _ in range(7):
        subscribe(product, date(2026, 2, 1))

    summary = bill(datetime(2026, 2, 2, tzinfo=UTC), batch_size=3)

    assert (summary.billed, summary.batches) == (7, 3)
    invoices = list(Invoice.objects.order_by("sequence"))
    assert [invoice.sequence for invoice in invoices] == list(range(1, 8))
    assert all(b.previous_hash == a.hash for a, b in itertools.pairwise(invoices))
    assert audit.audit_sequences()[0].clean


def test_a_cancelled_subscription_is_billed_up_to_the_end_of_its_current_period(product):
    subscription = subscribe(product, date(2026, 1, 31))
    bill(datetime(2026, 2, 10, tzinfo=UTC))

    cancelled = passes.cancel_subscription(
        subscription_id=subscription.pk, now=datetime(2026, 2, 10, tzinfo=UTC)
    )
    summary = bill(datetime(2026, 6, 1, tzinfo=UTC))

    assert cancelled.ends_at == paris_midnight(date(2026, 2, 28))
    assert (summary.billed, summary.skipped) == (0, 0)
    assert Invoice.objects.count() == 1


def test_a_member_whose_invoice_cannot_be_built_does_not_stop_the_run(product, paris):
    good = [subscribe(product, date(2026, 2, 1)) for _ in range(4)]
    # A price the currency cannot bill, written behind the use case's back.
    bad_product = PassProduct.objects.create(
        zone=paris, code="odd", label="Odd", monthly_price=Decimal("9.999"), plan="pass",
        created_at=SOLD_AT,
    )  # fmt: skip
    bad = subscribe(bad_product, date(2026, 2, 1))

    summary = bill(datetime(2026, 2, 2, tzinfo=UTC), batch_size=10)

    assert summary.billed == 4
    assert [(failure.item, failure.reason.split(":")[0]) for failure in summary.failures] == [
        (bad.pk, "invalid_charge")
    ]
    assert not summary.ok
    assert Invoice.objects.count() == 4
    assert not SubscriptionPeriod.objects.filter(subscription=bad).exists()
    assert all(s.periods.count() == 1 for s in good)


@pytest.fixture
def refuse_member():
    """A hook that makes the database work of one member's invoice fail, as a bad row would."""
    refused: set[int] = set()

    def hook(batch):
        for issued in batch.invoices:
            if issued.invoice.member_id in refused:
                raise RuntimeError(f"refused invoice of member {issued.invoice.member_id}")

    invoicing.AFTER_INVOICES_INSERTED.append(hook)
    yield refused
    invoicing.AFTER_INVOICES_INSERTED.remove(hook)


def test_a_batch_failing_in_the_database_is_retried_without_its_bad_item(product, refuse_member):
    subscriptions = [subscribe(product, date(2026, 2, 1)) for _ in range(9)]
    bad = subscriptions[5]
    refuse_member.add(bad.member.user_id)

    summary = bill(datetime(2026, 2, 2, tzinfo=UTC), batch_size=9)

    assert summary.billed == 8
    assert [failure.item for failure in summary.failures] == [bad.pk]
    assert "RuntimeError: refused invoice" in summary.failures[0].reason
    assert Invoice.objects.count() == 8
    assert [i.sequence for i in Invoice.objects.order_by("sequence")] == list(range(1, 9))
    assert audit.audit_sequences()[0].clean


def test_a_run_stops_once_failures_pass_the_limit(product, refuse_member):
    subscriptions = [subscribe(product, date(2026, 2, 1)) for _ in range(4)]
    refuse_member.update(s.member.user_id for s in subscriptions)

    summary = bill(datetime(2026, 2, 2, tzinfo=UTC), batch_size=1, max_failures=1)

    assert summary.aborted and len(summary.failures) == 2
    assert summary.billed == 0


def test_a_run_stops_retrying_a_batch_item_by_item_once_failures_pass_the_limit(
    product, refuse_member
):
    subscriptions = [subscribe(product, date(2026, 2, 1)) for _ in range(8)]
    refuse_member.update(s.member.user_id for s in subscriptions)

    summary = bill(datetime(2026, 2, 2, tzinfo=UTC), batch_size=8, max_failures=2)

    assert summary.aborted and len(summary.failures) == 3
    assert not Invoice.objects.exists()


def test_a_run_refuses_to_bill_periods_that_have_not_started(product):
    with pytest.raises(pass_runs.InvalidRun):
        bill(datetime(2026, 3, 1, tzinfo=UTC), now=datetime(2026, 2, 1, tzinfo=UTC))


def test_the_command_prints_a_summary_and_exits_non_zero_when_a_period_failed(product, paris):
    subscribe(product, date(2026, 2, 1))
    odd = PassProduct.objects.create(
        zone=paris, code="odd", label="Odd", monthly_price=Decimal("9.999"), plan="pass",
        created_at=SOLD_AT,
    )  # fmt: skip
    bad = subscribe(odd, date(2026, 2, 1))
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 period"):
        call_command("bill_subscriptions", "--until", "2026-02-02T00:00:00Z", stdout=out)

    assert "Billed 1 period(s)" in out.getvalue()
    assert "skipped 0 already billed; failed 1." in out.getvalue()
    assert f"subscription {bad.pk}: invalid_charge" in out.getvalue()


def test_the_command_shows_a_progress_bar_on_a_terminal(product):
    for _ in range(3):
        subscribe(product, date(2026, 2, 1))

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err, out = Terminal(), io.StringIO()
    call_command("bill_subscriptions", "--until", "2026-02-02T00:00:00Z", stdout=out, stderr=err)

    assert err.getvalue().startswith("\r[")
    assert err.getvalue().rstrip().endswith("/s") and "3/3 periods, 0 failed" in err.getvalue()
    assert "Billed 3 period(s)" in out.getvalue() and "failed 0." in out.getvalue()


def test_runs_never_bill_an_item_twice_even_if_the_cursor_is_behind(product):
    subscription = subscribe(product, date(2026, 2, 1))
    bill(datetime(2026, 2, 2, tzinfo=UTC))
    # As if the subscription had not moved on: the period row's unique constraint refuses.
    Subscription.objects.filter(pk=subscription.pk).update(
        next_period_index=0, next_period_starts_at=subscription.started_at
    )

    summary = bill(datetime(2026, 2, 3, tzinfo=UTC))

    assert summary.billed == 0
    assert [failure.item for failure in summary.failures] == [subscription.pk]
    assert "IntegrityError" in summary.failures[0].reason
    assert Invoice.objects.count() == 1
    assert isinstance(summary, runs.RunSummary)


def test_a_year_of_runs_from_31_january_bills_each_month_end_once(product):
    subscribe(product, date(2026, 1, 31))

    # A run each day of the year, as the scheduled job would: every period billed once.
    day = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    billed = 0
    while day < datetime(2027, 1, 31, 12, 0, tzinfo=UTC):
        billed += bill(day).billed
        day += timedelta(days=1)

    assert billed == 12
    descriptions = [
        queries.lines_of(invoice)[0].description.split(", ")[1]
        for invoice in Invoice.objects.order_by("sequence")
    ]
    assert descriptions[:4] == [
        "2026-01-31 to 2026-02-27",
        "2026-02-28 to 2026-03-30",
        "2026-03-31 to 2026-04-29",
        "2026-04-30 to 2026-05-30",
    ]
    assert descriptions[-1] == "2026-12-31 to 2027-01-30"
    assert audit.audit_sequences()[0].clean


def test_pass_and_fee_invoices_are_audited_and_exported_with_their_kind_of_charge(product, paris):
    from fleet import fees
    from rentals import charges as member_charges

    subscribe(product, date(2026, 2, 1))
    bill(datetime(2026, 2, 2, tzinfo=UTC))
    fees.publish_fee(
        zone=paris, code="cleaning", label="Cleaning", unit_price=Decimal("25.00"),
        valid_from=SOLD_AT, now=SOLD_AT,
    )  # fmt: skip
    member_charges.charge_member(
        member=MemberFactory(), zone=paris, lines=[member_charges.CatalogueFee(code="cleaning")],
        charged_by_id=UserFactory().pk, now=datetime(2026, 2, 3, tzinfo=UTC),
    )  # fmt: skip

    rows = list(csv.DictReader(io.StringIO("".join(exports.export_rows()))))
    (report,) = audit.audit_sequences()

    assert [(row["number"], row["total"], row["charge_kind"]) for row in rows] == [
        ("PAR-2026-000001", "19.90", "subscription_period"),
        ("PAR-2026-000002", "25.00", "member_charge"),
    ]
    assert report.clean and report.count == 2
