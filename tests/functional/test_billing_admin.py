"""The admin for finance and auditors: read-only documents, search, export, sequence audit."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from billing import invoicing
from billing.accounting.models import AccountChart
from tests.conftest import staff
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing/invoice/"
AUDIT = "/admin/billing/invoice/audit/"


def logged_in(client, role):
    client.force_login(staff(role))
    return client


@pytest.fixture
def books():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob", id=987654)
    invoices = [issue(alice.pk), issue(bob.pk), issue(alice.pk, prefix="LYO")]
    note = invoicing.issue_credit_note(
        invoice_number=invoices[0].number,
        amount=Decimal("1.00"),
        reason="goodwill",
        issued_by_id=alice.pk,
    )
    return invoices, note


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


def test_invoices_are_searchable_by_member_id_and_issue_date(client, books):
    invoices, _ = books
    client = logged_in(client, "finance")

    by_member = client.get(CHANGELIST, {"q": str(invoices[1].member_id)})
    by_day = client.get(CHANGELIST, {"q": invoices[0].issued_at.date().isoformat()})
    by_other_day = client.get(CHANGELIST, {"q": "2001-01-01"})

    assert [i.number for i in by_member.context["cl"].result_list] == [invoices[1].number]
    assert by_day.context["cl"].result_count == 3
    assert by_other_day.context["cl"].result_count == 0


def test_invoices_filter_by_series(client, books):
    invoices, _ = books

    response = logged_in(client, "finance").get(CHANGELIST, {"series": invoices[2].series})

    assert [i.number for i in response.context["cl"].result_list] == [invoices[2].number]


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
