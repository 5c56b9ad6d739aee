"""The accounting rules, pure: which lines a document posts, fiscal years, closing periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import charges
from billing.accounting import entries, periods

CHART = entries.default_chart(
    "PAR",
    {"RECEIVABLE": "411", "CUSTOMER_PREFIX": "411", "REVENUE": "706", "VAT": "44571",
     "OUT_OF_SCOPE": "467"},
)  # fmt: skip
ALICE = entries.Customer(account="4110000042", name="Alice Martin")


def group(
    total: str, net: str, vat: str, rate: str | None, exemption: str = ""
) -> charges.VatTotal:
    return charges.VatTotal(
        vat_rate=None if rate is None else Decimal(rate),
        vat_exemption=exemption,
        total=Decimal(total),
        net=Decimal(net),
        vat=Decimal(vat),
    )


def sides(lines):
    return [(line.role, line.account, str(line.debit), str(line.credit)) for line in lines]


def test_an_invoice_debits_the_total_and_credits_net_and_vat_per_rate():
    lines = entries.entry_lines(
        document_kind=entries.INVOICE,
        label="Facture PAR-2026-000001",
        chart=CHART,
        customer=ALICE,
        total=Decimal("71.00"),
        groups=[
            group("25.00", "20.83", "4.17", "0.20"),
            group("11.00", "10.00", "1.00", "0.10"),
            group("35.00", "35.00", "0.00", None, "Débours"),
        ],
    )

    assert sides(lines) == [
        ("RECEIVABLE", "411", "71.00", "0"),
        ("REVENUE", "706", "0", "20.83"),
        ("VAT", "44571", "0", "4.17"),
        ("REVENUE", "706", "0", "10.00"),
        ("VAT", "44571", "0", "1.00"),
        ("OUT_OF_SCOPE", "467", "0", "35.00"),
    ]
    assert [line.position for line in lines] == [1, 2, 3, 4, 5, 6]
    assert (lines[0].auxiliary_account, lines[0].auxiliary_label) == ("4110000042", "Alice Martin")
    assert all(line.auxiliary_account == "" for line in lines[1:])
    assert entries.entry_totals(lines) == (Decimal("71.00"), Decimal("71.00"))


def test_a_credit_note_posts_the_same_lines_on_the_other_side():
    groups = [group("12.00", "10.00", "2.00", "0.20")]
    invoice = entries.entry_lines(
        document_kind=entries.INVOICE, label="F", chart=CHART, customer=ALICE,
        total=Decimal("12.00"), groups=groups,
    )  # fmt: skip
    note = entries.entry_lines(
        document_kind=entries.CREDIT_NOTE, label="F", chart=CHART, customer=ALICE,
        total=Decimal("12.00"), groups=groups,
    )  # fmt: skip

    assert [(line.debit, line.credit) for line in note] == [
        (line.credit, line.debit) for line in invoice
    ]


def test_a_zero_rate_posts_no_vat_line_and_a_negative_net_moves_to_the_debit():
    lines = entries.entry_lines(
        document_kind=entries.INVOICE,
        label="F",
        chart=CHART,
        customer=ALICE,
        total=Decimal("4.00"),
        groups=[group("6.00", "6.00", "0.00", "0"), group("-2.00", "-1.67", "-0.33", "0.20")],
    )

    assert sides(lines) == [
        ("RECEIVABLE", "411", "4.00", "0"),
        ("REVENUE", "706", "0", "6.00"),
        ("REVENUE", "706", "1.67", "0"),
        ("VAT", "44571", "0.33", "0"),
    ]


def test_groups_that_do_not_add_up_to_the_total_are_refused():
    with pytest.raises(entries.UnbalancedEntry, match=r"debit 10\.00 != credit 9\.99"):
        entries.entry_lines(
            document_kind=entries.INVOICE,
            label="F",
            chart=CHART,
            customer=ALICE,
            total=Decimal("10.00"),
            groups=[group("9.99", "8.33", "1.66", "0.20")],
        )


def test_a_reversing_entry_keeps_the_accounts_it_is_given():
    kept = {(entries.REVENUE, Decimal("0.20"), ""): entries.Account(number="706100", label="Old")}

    lines = entries.entry_lines(
        document_kind=entries.CREDIT_NOTE,
        label="A",
        chart=CHART,
        customer=ALICE,
        total=Decimal("12.00"),
        groups=[group("12.00", "10.00", "2.00", "0.20")],
        accounts=kept,
    )

    assert [(line.account, line.account_label) for line in lines] == [
        ("411", "Clients"),
        ("706100", "Old"),
        ("44571", "TVA collectée"),
    ]


@pytest.mark.parametrize(
    ("rate", "text"),
    [("0.20", "20 %"), ("0.055", "5,5 %"), ("0.021", "2,1 %"), ("0", "0 %"), ("0.1000", "10 %")],
)
def test_rates_are_written_the_french_way(rate, text):
    assert entries.format_percent(Decimal(rate)) == text


@pytest.mark.parametrize(
    ("day", "start_month", "year"),
    [
        (date(2026, 1, 1), 1, 2026),
        (date(2026, 12, 31), 1, 2026),
        (date(2026, 6, 30), 7, 2026),
        (date(2026, 7, 1), 7, 2027),
        (date(2027, 6, 30), 7, 2027),
    ],
)
def test_a_fiscal_year_is_named_by_the_year_it_ends_in(day, start_month, year):
    assert entries.fiscal_year_of(day, start_month=start_month) == year
    first, after = entries.fiscal_year_bounds(year, start_month=start_month)
    assert first <= day < after


def test_a_fiscal_year_starts_in_a_real_month():
    with pytest.raises(ValueError, match="month 1 to 12"):
        entries.fiscal_year_bounds(2026, start_month=13)


def hours(period: periods.Period, zone: str = "Europe/Paris") -> float:
    started, ended = period.instants(zone)
    return (ended - started) / timedelta(hours=1)


@pytest.mark.parametrize(
    ("day", "length"),
    [
        pytest.param(date(2026, 3, 29), 23, id="paris-spring-forward-2026-03-29"),
        pytest.param(date(2026, 10, 25), 25, id="paris-fall-back-2026-10-25"),
        pytest.param(date(2026, 6, 1), 24, id="an-ordinary-day"),
    ],
)
def test_a_local_day_lasts_what_the_clocks_say(day, length):
    period = periods.period_containing(periods.DAY, day, fiscal_year_start_month=1)

    assert hours(period) == length


def test_a_day_whose_midnight_never_happened_begins_at_the_clock_change():
    # America/Sao_Paulo, 2018-11-04: the clocks jumped from 00:00 to 01:00.
    period = periods.period_containing(periods.DAY, date(2018, 11, 4), fiscal_year_start_month=1)

    started, ended = period.instants("America/Sao_Paulo")
    assert started == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert ended - started == timedelta(hours=23)


def test_2026_12_31T23_30Z_falls_in_the_paris_day_month_and_year_of_2027():
    day = periods.local_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Europe/Paris")

    found = {
        kind: periods.period_containing(kind, day, fiscal_year_start_month=1)
        for kind in periods.KINDS
    }
    assert [str(found[kind]) for kind in periods.KINDS] == [
        "DAY 2027-01-01",
        "MONTH 2027-01-01",
        "YEAR 2027-01-01",
    ]
    assert found[periods.MONTH].end_date == date(2027, 2, 1)
    assert found[periods.YEAR].end_date == date(2028, 1, 1)


def test_months_end_where_the_next_begins_through_a_leap_february():
    period = periods.period_containing(periods.MONTH, date(2028, 1, 31), fiscal_year_start_month=1)
    seen = []
    for _ in range(3):
        seen.append((period.start_date, period.end_date))
        period = periods.following(period, fiscal_year_start_month=1)

    assert seen == [
        (date(2028, 1, 1), date(2028, 2, 1)),
        (date(2028, 2, 1), date(2028, 3, 1)),
        (date(2028, 3, 1), date(2028, 4, 1)),
    ]


ZONES = st.sampled_from(["Europe/Paris", "America/New_York", "Pacific/Apia", "Asia/Kolkata"])
INSTANTS = st.datetimes(
    min_value=datetime(2011, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(instant=INSTANTS, zone=ZONES, kind=st.sampled_from(periods.KINDS))
def test_every_instant_lies_in_the_period_of_its_local_date_and_periods_tile_time(
    instant, zone, kind
):
    period = periods.period_containing(
        kind, periods.local_date(instant, zone), fiscal_year_start_month=1
    )
    started, ended = period.instants(zone)
    following = periods.following(period, fiscal_year_start_month=1)

    assert started <= instant < ended
    assert following.instants(zone)[0] == ended
