"""The admin for finance and auditors: read-only documents, search, export, sequence audit.

Documents are dated by a pinned database clock: a Paris invoice issued at 08:06 UTC in
winter reads 09:06 +01:00, and one issued at 23:30 UTC on 31 January is a 1 February one.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group

from billing import charges, invoicing, numbering, pricing
from billing.accounting.models import AccountChart
from core import clock as core_clock
from core.transactions import run_in_transaction
from tests.conftest import staff
from tests.factories import UserFactory
from tests.invoices import charge

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing/invoice/"
NOTES = "/admin/billing/creditnote/"
AUDIT = "/admin/billing/invoice/audit/"
EXPORT = "/admin/billing/invoice/export/"
WINTER_MORNING = datetime(2026, 1, 15, 8, 6, tzinfo=UTC)  # 09:06 in Paris
PARIS_NEW_YEAR_NIGHT = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 1 February 00:30 in Paris
TOKYO = pricing.Tariff(
    time_zone="Asia/Tokyo",
    currency="JPY",
    vat_rate=Decimal("0.10"),
    bands=[pricing.Band(starts_at=time(0), per_minute=Decimal("30"))],
    unlock_fee=Decimal("100"),
)


class Clock:
    """The database clock documents are dated by, pinned by the test."""

    now = WINTER_MORNING

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    pinned = Clock()
    monkeypatch.setattr(core_clock, "read_database_clock", pinned)
    return pinned


_subjects = iter(range(1, 100_000))


def issue_at(clock, at, user, *, prefix="PAR", billed=None):
    clock.now = at
    return run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="Alice Martin", billing_address="Paris"
            ),
            charge=billed or charge(20),
            series=numbering.SeriesRule(prefix=prefix),
            subject_kind="test",
            subject_id=next(_subjects),
        )
    )


def credit_at(clock, at, invoice, amount="1.00"):
    clock.now = at
    return invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal(amount),
        reason="goodwill",
        issued_by_id=invoice.member_id,
    )


def logged_in(client, role):
    client.force_login(staff(role))
    return client


def numbers(response):
    return sorted(document.number for document in response.context["cl"].result_list)


@pytest.fixture
def books(clock):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob", id=987654)
    invoices = [
        issue_at(clock, WINTER_MORNING, alice),
        issue_at(clock, WINTER_MORNING + timedelta(days=5), bob),
        issue_at(clock, PARIS_NEW_YEAR_NIGHT, alice, prefix="LYO"),
    ]
    note = credit_at(clock, datetime(2026, 2, 1, 9, 0, tzinfo=UTC), invoices[0])
    return invoices, note


@pytest.fixture
def yen_invoice(clock):
    started = datetime(2026, 1, 20, 1, 0, tzinfo=UTC)
    billed = pricing.price(TOKYO, started, started + timedelta(minutes=20))
    return issue_at(
        clock, started + timedelta(minutes=21), UserFactory(), prefix="TYO", billed=billed
    )


@pytest.fixture
def two_rate_invoice(clock):
    """A version-2 invoice whose lines carry their own VAT: a fee at 20%, a fine outside VAT."""
    at = datetime(2026, 1, 22, 9, 0, tzinfo=UTC)
    line = {"kind": "FEE", "quantity": Decimal(1), "unit": "unit"}
    billed = charges.Charge(
        currency="EUR",
        time_zone="Europe/Paris",
        started_at=at,
        ended_at=at,
        lines=(
            charges.ChargeLine(
                **line, description="Cleaning fee", unit_price=Decimal("30.00"),
                amount=Decimal("30.00"), vat_rate=Decimal("0.20"),
            ),
            charges.ChargeLine(
                **line, description="Parking fine", unit_price=Decimal("35.00"),
                amount=Decimal("35.00"), vat_rate=None, vat_exemption="Disbursement",
            ),
        ),
    )  # fmt: skip
    return issue_at(clock, at, UserFactory(), billed=billed)


def codenames(group_name, app_label):
    group = Group.objects.get(name=group_name)
    return set(
        group.permissions.filter(content_type__app_label=app_label).values_list(
            "codename", flat=True
        )
    )


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_only_view_documents_and_the_accounts_and_finance_keeps_the_chart(
    role,
):
    documents = {"view_invoice", "view_invoiceline", "view_creditnote"}
    accounts = {"view_journalentry", "view_journalline", "view_closing", "view_accountchart"}
    chart = {"add_accountchart", "change_accountchart"} if role == "finance" else set()

    assert codenames(role, "billing") == documents | accounts | chart


def test_fleet_staff_may_add_change_and_view_the_fleet_but_not_delete_it():
    models = ["zone", "vehicle", "tariff", "tariffband", "member"]

    assert codenames("fleet", "fleet") == {
        f"{action}_{model}" for model in models for action in ("add", "change", "view")
    }
    assert codenames("fleet", "billing") == set()


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_see_the_invoice_list_with_a_link_to_the_audit(client, books, role):
    response = logged_in(client, role).get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    assert f'href="{AUDIT}"' in response.text


def test_an_invoice_opens_read_only_without_a_save_button(client, books):
    invoice = books[0][0]

    response = logged_in(client, "finance").get(f"{CHANGELIST}{invoice.pk}/change/")

    assert response.status_code == 200
    assert response.context["title"] == "View invoice"
    assert 'name="_save"' not in response.text
    assert 'name="billing_name"' not in response.text
    assert '<div class="readonly">Alice Martin</div>' in response.text


def test_posting_a_change_to_an_invoice_is_forbidden(client, books):
    invoice = books[0][0]

    response = logged_in(client, "finance").post(
        f"{CHANGELIST}{invoice.pk}/change/", {"billing_name": "Mallory"}
    )

    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.billing_name == "Alice Martin"


def test_fleet_staff_cannot_see_invoices_in_the_admin(client, books):
    client = logged_in(client, "fleet")

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(AUDIT).status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    response = client.get(AUDIT)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_the_audit_page_shows_every_series_clean(client, books, role):
    invoices, note = books

    response = logged_in(client, role).get(AUDIT)

    assert response.status_code == 200
    reports = response.context["reports"]
    assert {(r.series, r.count, r.clean) for r in reports} == {
        (invoices[0].series, 2, True),
        (invoices[2].series, 1, True),
        (note.series, 1, True),
    }
    assert "All 3 series are <strong>CLEAN</strong>" in response.text


def test_the_audit_page_keeps_one_series_when_asked(client, books):
    note = books[1]

    response = logged_in(client, "auditor").get(AUDIT, {"series": note.series})

    assert [r.series for r in response.context["reports"]] == [note.series]


def test_the_audit_page_says_when_there_is_nothing_to_audit(client):
    response = logged_in(client, "auditor").get(AUDIT)

    assert "nothing to audit" in response.text


def test_finance_exports_the_selected_invoices_with_their_credit_notes(client, books):
    invoices, note = books

    response = logged_in(client, "finance").post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [invoices[0].pk, invoices[2].pk]},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[1] for row in rows[1:]] == [invoices[2].number, invoices[0].number, note.number]
    assert [row[14] for row in rows[1:]] == ["8.00", "8.00", "1.00"]


def test_auditors_are_not_offered_the_export(client, books):
    invoices, _ = books
    client = logged_in(client, "auditor")

    listing = client.get(CHANGELIST)
    response = client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [invoices[0].pk]}
    )

    assert listing.context["action_form"] is None  # no action at all: nothing to select
    assert not response.get("Content-Type", "").startswith("text/csv")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("bob", [1]),
        ("LYO", [2]),
        ("Alice Martin", [0, 1, 2]),
    ],
    ids=["member-username", "number", "billing-name"],
)
def test_invoices_are_searchable_by_number_member_and_name(client, books, term, expected):
    invoices, _ = books

    response = logged_in(client, "finance").get(CHANGELIST, {"q": term})

    found = {invoice.number for invoice in response.context["cl"].result_list}
    assert found == {invoices[i].number for i in expected}


def test_invoices_are_searchable_by_member_id(client, books):
    invoices, _ = books

    response = logged_in(client, "finance").get(CHANGELIST, {"q": str(invoices[1].member_id)})

    assert numbers(response) == [invoices[1].number]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("2026-01-15", [0]), ("2026-02-01", [2]), ("2026-01-31", []), ("2001-01-01", [])],
    ids=["winter-morning", "paris-1-february-0030", "its-utc-date-finds-nothing", "no-invoice"],
)
def test_invoices_are_searchable_by_their_local_issue_date(client, books, term, expected):
    invoices, _ = books

    response = logged_in(client, "finance").get(CHANGELIST, {"q": term})

    assert numbers(response) == sorted(invoices[i].number for i in expected)


def test_credit_notes_are_searchable_by_their_local_issue_date(client, books):
    _, note = books

    response = logged_in(client, "finance").get(NOTES, {"q": "2026-02-01"})

    assert numbers(response) == [note.number]


def test_invoices_filter_by_series(client, books):
    invoices, _ = books

    response = logged_in(client, "finance").get(CHANGELIST, {"series": invoices[2].series})

    assert [i.number for i in response.context["cl"].result_list] == [invoices[2].number]


# Local time, amounts, VAT rates.


def cells(response, column):
    """The text of one column of the change list, row by row (newest first)."""
    import re

    pattern = rf'<td class="field-{column}[^"]*">(.*?)</td>'
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(pattern, response.text)]


def test_the_list_shows_times_in_each_documents_zone_with_its_offset(client, books, yen_invoice):
    response = logged_in(client, "finance").get(CHANGELIST)

    assert sorted(cells(response, "issued_local")) == [
        "2026-01-15 09:06 +01:00",
        "2026-01-20 09:06 +01:00",
        "2026-01-20 10:21 +09:00",
        "2026-02-01 00:30 +01:00",
    ]
    assert "a.m." not in response.text


def test_the_list_shows_amounts_with_the_currencys_decimals_and_vat_as_a_percent(
    client, books, yen_invoice
):
    response = logged_in(client, "finance").get(CHANGELIST)

    rows = list(
        zip(
            cells(response, "net_amount"), cells(response, "vat_percent"),
            cells(response, "vat_amount"), cells(response, "total_amount"), strict=True,
        )
    )  # fmt: skip
    assert sorted(set(rows)) == [
        ("6.67", "20%", "1.33", "8.00 EUR"),
        ("636", "10%", "64", "700 JPY"),
    ]
    assert "0000" not in "".join(cells(response, "total_amount"))


def test_an_invoice_page_shows_local_times_lines_vat_per_rate_and_its_credit_notes(client, books):
    invoice, note = books[0][0], books[1]

    response = logged_in(client, "finance").get(f"{CHANGELIST}{invoice.pk}/change/")

    text = response.text
    assert "2026-01-15 09:06 +01:00" in text
    assert "2026-01-15 08:06:00 UTC" in text
    assert "<td>Unlock fee</td>" in text and "<td>20%</td>" in text
    assert (
        "<td class='amount'>6.67</td><td class='amount'>1.33</td><td class='amount'>8.00</td>"
        in text
    )
    link = f'<a href="{NOTES}{note.pk}/change/">{note.number}</a>'
    assert f"{link}, issued 2026-02-01 10:00 +01:00: 1.00 EUR (goodwill)" in text


def test_a_two_rate_invoice_shows_each_lines_rate_and_the_totals_per_rate(client, two_rate_invoice):
    client = logged_in(client, "finance")

    page = client.get(f"{CHANGELIST}{two_rate_invoice.pk}/change/")
    listing = client.get(CHANGELIST)

    assert two_rate_invoice.canonical_version == 2
    assert "<td>Cleaning fee</td><td>-</td><td class='amount'>1 unit</td>" in page.text
    assert "<td>outside VAT: Disbursement</td>" in page.text
    assert "<tr><td>20%</td><td class='amount'>25.00</td><td class='amount'>5.00</td>" in page.text
    assert "<tr><td>outside VAT: Disbursement</td><td class='amount'>35.00</td>" in page.text
    assert cells(listing, "vat_percent") == ["several"]


def test_an_invoice_without_credit_notes_says_so(client, books):
    invoice = books[0][1]

    response = logged_in(client, "finance").get(f"{CHANGELIST}{invoice.pk}/change/")

    assert '<div class="readonly">None.</div>' in response.text


def test_a_credit_note_page_links_its_invoice_and_shows_its_local_time(client, books):
    invoice, note = books[0][0], books[1]

    response = logged_in(client, "finance").get(f"{NOTES}{note.pk}/change/")

    assert f'<a href="{CHANGELIST}{invoice.pk}/change/">{invoice.number}</a>' in response.text
    assert "2026-02-01 10:00 +01:00" in response.text
    assert "/admin/auth/user/" not in response.text


# The member link.


@pytest.mark.parametrize("page", ["invoice", "credit_note"])
def test_the_member_link_opens_the_members_invoices_which_finance_may_see(client, books, page):
    invoices, note = books
    client = logged_in(client, "finance")
    url = (
        f"{CHANGELIST}{invoices[0].pk}/change/"
        if page == "invoice"
        else f"{NOTES}{note.pk}/change/"
    )
    member_list = f"{CHANGELIST}?member={invoices[0].member_id}"

    shown = client.get(url)
    opened = client.get(member_list)

    assert f'href="{member_list}"' in shown.text
    assert "/admin/auth/user/" not in shown.text  # finance may not open accounts: a 403
    assert opened.status_code == 200
    assert numbers(opened) == sorted([invoices[0].number, invoices[2].number])


def test_a_malformed_member_filter_is_not_a_crash(client, books):
    response = logged_in(client, "finance").get(CHANGELIST, {"member": "2.5"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


# Period filters and totals.


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"issued_from": "2026-01-01", "issued_to": "2026-02-01"}, [0, 1]),
        ({"issued_from": "2026-02-01", "issued_to": "2026-03-01"}, [2]),
        ({"issued_from": "2026-01-16"}, [1, 2]),
        ({"issued_to": "2026-01-16"}, [0]),
    ],
    ids=["january-in-paris", "february-in-paris", "from-only", "to-only"],
)
def test_invoices_filter_by_local_dates_of_their_zone(client, books, query, expected):
    invoices, _ = books

    response = logged_in(client, "finance").get(CHANGELIST, query)

    assert numbers(response) == sorted(invoices[i].number for i in expected)


def test_last_month_is_januarys_invoices_at_half_past_midnight_on_1_february_in_paris(
    client, books
):
    invoices, _ = books
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris: last month is January there.
    with time_machine.travel(datetime(2026, 1, 31, 23, 45, tzinfo=UTC), tick=False):
        response = logged_in(client, "finance").get(CHANGELIST, {"period": "last_month"})

    assert numbers(response) == sorted([invoices[0].number, invoices[1].number])


def test_this_month_in_credit_notes_reads_the_invoices_zone(client, books):
    _, note = books
    with time_machine.travel(datetime(2026, 2, 10, 12, 0, tzinfo=UTC), tick=False):
        response = logged_in(client, "finance").get(NOTES, {"period": "this_month"})

    assert numbers(response) == [note.number]


def test_the_filtered_list_shows_its_totals_per_currency(client, books, yen_invoice):
    response = logged_in(client, "finance").get(
        CHANGELIST, {"issued_from": "2026-01-01", "issued_to": "2026-02-01"}
    )

    assert response.context["totals"] == [
        {"currency": "EUR", "count": 2, "net": "13.34", "vat": "2.66", "total": "16.00"},
        {"currency": "JPY", "count": 1, "net": "636", "vat": "64", "total": "700"},
    ]
    assert '<table id="totals">' in response.text


def test_totals_count_every_page_of_the_list(client, books, monkeypatch):
    from billing.admin import InvoiceAdmin

    monkeypatch.setattr(InvoiceAdmin, "list_per_page", 1)

    response = logged_in(client, "finance").get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 1
    assert response.context["totals"][0]["count"] == 3


def test_a_malformed_period_is_not_a_crash(client, books):
    response = logged_in(client, "finance").get(CHANGELIST, {"issued_from": "31/01/2026"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


# Export of a period.


def export(client, query):
    response = client.get(EXPORT, query)
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    return response, list(csv.reader(io.StringIO(text, newline="")))


def test_finance_exports_a_period_in_local_dates_with_its_credit_notes(client, books):
    invoices, note = books

    response, rows = export(
        logged_in(client, "finance"), {"issued_from": "2026-02-01", "issued_to": "2026-03-01"}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="invoices_2026-02-01_2026-03-01.csv"' in response["Content-Disposition"]
    assert rows[0][:2] == ["document_type", "number"]
    assert [(row[0], row[1], row[5]) for row in rows[1:]] == [
        ("invoice", invoices[2].number, "2026-02-01T00:30:00+01:00"),
        ("credit_note", note.number, "2026-02-01T10:00:00+01:00"),
    ]


def test_the_export_of_last_month_and_of_a_series(client, books):
    invoices, note = books
    client = logged_in(client, "finance")

    with time_machine.travel(datetime(2026, 2, 10, 12, 0, tzinfo=UTC), tick=False):
        client.force_login(staff("finance"))
        last_month, last_rows = export(client, {"period": "last_month"})
        series, series_rows = export(client, {"series": invoices[0].series})

    assert 'filename="invoices_2026-01-01_2026-02-01.csv"' in last_month["Content-Disposition"]
    assert [row[1] for row in last_rows[1:]] == [invoices[0].number, invoices[1].number]
    assert f'filename="invoices_{invoices[0].series}_all.csv"' in series["Content-Disposition"]
    assert [row[1] for row in series_rows[1:]] == [
        invoices[0].number,
        invoices[1].number,
        note.number,
    ]


def test_the_list_links_the_export_of_its_period_for_finance_only(client, books):
    query = {"issued_from": "2026-02-01", "issued_to": "2026-03-01", "series": "LYO-2026"}

    finance = logged_in(client, "finance").get(CHANGELIST, query)
    client.logout()
    auditor = logged_in(client, "auditor").get(CHANGELIST, query)

    expected = f"{EXPORT}?issued_from=2026-02-01&amp;issued_to=2026-03-01&amp;series=LYO-2026"
    assert f'href="{expected}"' in finance.text
    assert EXPORT not in auditor.text


@pytest.mark.parametrize("role", ["auditor", "fleet"])
def test_only_finance_exports_a_period(client, books, role):
    assert logged_in(client, role).get(EXPORT).status_code == 403


def test_a_malformed_export_period_is_a_400(client, books):
    response = logged_in(client, "finance").get(EXPORT, {"period": "yesterday"})

    assert response.status_code == 400
    assert response.content == b"Unknown period 'yesterday'."


def test_the_credit_note_list_links_each_notes_invoice(client, books):
    invoice = books[0][0]

    response = logged_in(client, "finance").get(NOTES)

    assert cells(response, "invoice_link") == [invoice.number]
    assert f'<a href="{CHANGELIST}{invoice.pk}/change/">{invoice.number}</a>' in response.text
    assert cells(response, "issued_local") == ["2026-02-01 10:00 +01:00"]


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_journal_entries_open_read_only_with_their_lines(client, books, role):
    entry = books[0][0].journal_entry

    listed = logged_in(client, role).get("/admin/billing/journalentry/")
    opened = client.get(f"/admin/billing/journalentry/{entry.pk}/change/")

    assert listed.status_code == 200 and listed.context["cl"].result_count == 4
    assert opened.status_code == 200
    assert opened.context["title"] == "View journal entry"
    assert 'name="_save"' not in opened.text
    assert "44571" in opened.text and "Facture PAR-2026-000001 TVA 20 %" in opened.text


def test_finance_keeps_the_chart_of_accounts_and_auditors_only_read_it(client, db):
    finance = logged_in(client, "finance")
    added = finance.post(
        "/admin/billing/accountchart/add/",
        {"series_prefix": "LYO", "revenue_account": "706100", "sales_journal_code": "VTLYO"},
    )
    # Class 9 (analytical accounts) is not part of the general chart: refused.
    refused = finance.post(
        "/admin/billing/accountchart/add/", {"series_prefix": "NCE", "vat_account": "901"}
    )

    assert added.status_code == 302
    assert AccountChart.objects.get(series_prefix="LYO").revenue_account == "706100"
    assert refused.status_code == 200 and "Three digits of a French chart" in refused.text
    assert not AccountChart.objects.filter(series_prefix="NCE").exists()
    assert logged_in(client, "auditor").get("/admin/billing/accountchart/add/").status_code == 403
