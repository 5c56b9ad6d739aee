"""Closings follow the zone's calendar (23- and 25-hour days, the year end), once each, chained."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from billing import audit, canonical
from billing.accounting import closings
from billing.accounting.models import Closing
from tests.books import CLEANING, FINE, PARKING, credit_at, invoice_at
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def user():
    return UserFactory()


def closed(kind: str, start: str) -> Closing:
    return Closing.objects.get(kind=kind, start_date=date.fromisoformat(start))


@pytest.mark.parametrize(
    ("day", "before", "first", "last", "after", "hours"),
    [
        pytest.param(
            "2026-03-29",
            "2026-03-28T22:59:59Z",  # 23:59:59 CET on the 28th
            "2026-03-28T23:00:00Z",  # midnight CET
            "2026-03-29T21:59:59Z",  # 23:59:59 CEST
            "2026-03-29T22:00:00Z",  # midnight CEST on the 30th
            23,
            id="paris-spring-forward-2026-03-29-has-23-hours",
        ),
        pytest.param(
            "2026-10-25",
            "2026-10-24T21:59:59Z",
            "2026-10-24T22:00:00Z",  # midnight CEST
            "2026-10-25T22:59:59Z",  # 23:59:59 CET
            "2026-10-25T23:00:00Z",
            25,
            id="paris-fall-back-2026-10-25-has-25-hours",
        ),
    ],
)
def test_a_dst_day_closes_its_own_local_hours(
    db_clock, user, day, before, first, last, after, hours
):
    for instant in (before, first, last, after):
        invoice_at(db_clock, at(instant), user.pk)
    db_clock.now = at(after) + timedelta(days=2)

    closings.close_due_periods(now=db_clock.now)

    closing = closed("DAY", day)
    assert closing.ended_at - closing.started_at == timedelta(hours=hours)
    assert (closing.started_at, closing.ended_at) == (at(first), at(after))
    assert (closing.invoice_count, closing.total) == (2, Decimal("16.00"))
    assert audit.audit_accounts().clean


def test_a_sale_at_2026_12_31T23_30Z_is_closed_on_1_january_2027_in_paris(db_clock, user):
    invoice_at(db_clock, at("2026-12-31T22:59:00Z"), user.pk)  # 23:59 on 31 December
    invoice_at(db_clock, at("2026-12-31T23:30:00Z"), user.pk, lines=(CLEANING,))  # 00:30
    db_clock.now = at("2027-01-02T00:00:00Z")

    closings.close_due_periods(now=db_clock.now)

    new_year = closed("DAY", "2027-01-01")
    assert (new_year.invoice_count, new_year.total) == (1, Decimal("25.00"))
    assert (closed("DAY", "2026-12-31").invoice_count, closed("DAY", "2026-12-31").total) == (
        1,
        Decimal("8.00"),
    )
    year_2026 = closed("YEAR", "2026-01-01")
    assert (year_2026.end_date, year_2026.invoice_count) == (date(2027, 1, 1), 1)
    assert closed("MONTH", "2026-12-01").invoice_count == 1
    # January 2027 and the year 2027 have not ended.
    assert not Closing.objects.filter(kind__in=["MONTH", "YEAR"], start_date__year=2027).exists()
    assert new_year.perpetual_total == Decimal("33.00")


def test_a_period_closes_once_it_has_ended_and_not_a_second_before(db_clock, user):
    invoice_at(db_clock, at("2026-06-01T10:00:00Z"), user.pk)
    end_of_day = at("2026-06-01T22:00:00Z")  # midnight in Paris (CEST)

    db_clock.now = end_of_day - timedelta(microseconds=1)
    assert closings.close_due_periods(now=db_clock.now) == []

    db_clock.now = end_of_day
    made = closings.close_due_periods(now=end_of_day)
    assert [(closing.kind, str(closing.start_date)) for closing in made] == [("DAY", "2026-06-01")]


def test_the_database_clock_bounds_what_the_application_clock_may_close(db_clock, user):
    invoice_at(db_clock, at("2026-06-01T10:00:00Z"), user.pk)
    db_clock.now = at("2026-06-01T21:59:00Z")  # documents are still dated on the 1st

    assert closings.close_due_periods(now=at("2026-06-03T00:00:00Z")) == []


def test_closing_twice_closes_nothing_twice_and_the_database_refuses_a_duplicate(db_clock, user):
    invoice_at(db_clock, at("2026-06-01T10:00:00Z"), user.pk)
    db_clock.now = at("2026-06-04T00:00:00Z")

    first = closings.close_due_periods(now=db_clock.now)
    second = closings.close_due_periods(now=db_clock.now)

    assert [str(c.start_date) for c in first] == ["2026-06-01", "2026-06-02", "2026-06-03"]
    assert second == []
    day = closed("DAY", "2026-06-01")
    duplicate = Closing(
        **{f.attname: getattr(day, f.attname) for f in Closing._meta.concrete_fields},
    )
    duplicate.pk, duplicate.hash, duplicate.sequence = None, "f" * 64, 99
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_every_day_closes_in_a_chain_with_grand_totals_since_the_first_document(db_clock, user):
    invoice = invoice_at(db_clock, at("2026-06-01T10:00:00Z"), user.pk, lines=(CLEANING, FINE))
    credit_at(db_clock, at("2026-06-03T10:00:00Z"), invoice, "6.00", user.pk)
    invoice_at(db_clock, at("2026-06-03T11:00:00Z"), user.pk, lines=(PARKING,))
    db_clock.now = at("2026-06-04T00:00:00Z")

    closings.close_due_periods(now=db_clock.now)

    days = list(Closing.objects.filter(kind="DAY").order_by("sequence"))
    assert [(str(d.start_date), d.invoice_count, d.credit_note_count, d.total) for d in days] == [
        ("2026-06-01", 1, 0, Decimal("60.00")),
        ("2026-06-02", 0, 0, Decimal("0.00")),  # an empty day closes too
        ("2026-06-03", 1, 1, Decimal("5.00")),  # 11.00 invoiced, 6.00 credited
    ]
    assert [d.perpetual_total for d in days] == [Decimal("60"), Decimal("60"), Decimal("65")]
    assert [d.perpetual_absolute_total for d in days] == [Decimal(60), Decimal(60), Decimal(77)]
    assert days[2].vat_breakdown == [
        # 6.00 credited over 25.00 at 20 % and 35.00 outside VAT: 2.50 and 3.50.
        {"vat_rate": "0.2000", "vat_exemption": "", "net": "-2.0800", "vat": "-0.4200",
         "total": "-2.5000"},
        {"vat_rate": "0.1000", "vat_exemption": "", "net": "10.0000", "vat": "1.0000",
         "total": "11.0000"},
        {"vat_rate": None, "vat_exemption": "Débours", "net": "-3.5000", "vat": "0.0000",
         "total": "-3.5000"},
    ]  # fmt: skip
    assert (days[2].net, days[2].vat) == (Decimal("4.42"), Decimal("0.58"))
    previous = canonical.GENESIS_HASH
    for day in days:
        assert day.previous_hash == previous
        assert day.hash == canonical.document_hash(closings.closing_content(day))
        previous = day.hash
    assert audit.audit_accounts().clean


def test_each_zone_has_its_own_chains(db_clock, user):
    invoice_at(db_clock, at("2026-06-01T10:00:00Z"), user.pk)
    invoice_at(
        db_clock, at("2026-06-01T10:00:00Z"), user.pk, prefix="NYC", time_zone="America/New_York",
        currency="USD",
    )  # fmt: skip
    db_clock.now = at("2026-06-02T06:00:00Z")  # 02:00 in New York: its 1 June has ended

    made = closings.close_due_periods(now=db_clock.now)

    assert sorted((c.series_prefix, c.kind, str(c.start_date)) for c in made) == [
        ("NYC", "DAY", "2026-06-01"),
        ("PAR", "DAY", "2026-06-01"),
    ]
    nyc = Closing.objects.get(series_prefix="NYC")
    assert (nyc.time_zone, nyc.currency, nyc.started_at) == (
        "America/New_York",
        "USD",
        at("2026-06-01T04:00:00Z"),
    )


def test_the_command_closes_what_has_ended_and_says_so_idempotently(db_clock, user):
    invoice_at(db_clock, at("2026-06-01T10:00:00Z"), user.pk)
    db_clock.now = at("2026-06-02T08:00:00Z")

    out = io.StringIO()
    call_command("close_period", "--until", "2026-06-02T08:00:00Z", stdout=out, no_color=True)
    again = io.StringIO()
    call_command("close_period", "--until", "2026-06-02T08:00:00Z", stdout=again, no_color=True)

    assert out.getvalue().splitlines() == [
        "PAR DAY 2026-06-01: 1 invoices, 0 credit notes, total 8.00 EUR, grand total 8.00",
        "1 periods closed.",
    ]
    assert again.getvalue() == "Nothing to close: every period that has ended is closed.\n"
