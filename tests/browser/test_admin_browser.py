"""A finance user in a real headless Chromium: log in, open an invoice, download exports.

Chromium is Debian's (``/usr/bin/chromium``, ``make browser-deps``), driven by Playwright's
own driver; ``playwright install`` is never run. Without the browser the test skips on a
developer's machine and fails under CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import csv
import importlib
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from billing import invoicing
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "finance-browser-pass"
GRANTS = importlib.import_module("billing.migrations.0003_finance_and_auditors_view_documents")


@pytest.fixture
def finance_user():
    # A transactional test before this one may have flushed the migrations' groups and
    # grants: put back what billing's migration 0003 grants to finance.
    group, _ = Group.objects.get_or_create(name="finance")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="billing", codename__in=GRANTS.PERMISSIONS
        )
    )
    user = UserFactory(username="fiona", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(group)
    return user


@pytest.fixture
def books():
    customer = UserFactory()
    invoices = [issue(customer.pk), issue(customer.pk, minutes=30)]
    note = invoicing.issue_credit_note(
        invoice_number=invoices[0].number,
        amount=Decimal("2.00"),
        reason="goodwill",
        issued_by_id=customer.pk,
    )
    return invoices, note


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_finance_views_an_invoice_read_only_and_downloads_exports_in_chromium(
    live_server, sync_playwright, finance_user, books, tmp_path
):
    invoices, note = books
    # Django's ORM refuses to run beside Playwright's event loop: every row is made above
    # and every check against the database is made after the browser is closed.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(accept_downloads=True)
            page.set_default_timeout(30_000)

            page.goto(f"{live_server.url}/admin/login/?next=/admin/billing/invoice/")
            page.fill("#id_username", finance_user.username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/billing/invoice/")
            listed = page.locator("#result_list tbody tr").count()
            audit_link = page.get_by_role("link", name="Audit sequences").count()

            page.click(f"text={invoices[1].number}")
            page.wait_for_url(f"**/admin/billing/invoice/{invoices[1].pk}/change/")
            heading = page.locator("#content h1").inner_text()
            save_buttons = page.locator("input[name=_save]").count()
            editable_names = page.locator("[name=billing_name]").count()
            shown_name = page.locator(".field-billing_name .readonly").inner_text()

            page.goto(f"{live_server.url}/admin/billing/invoice/")
            page.check("#action-toggle")
            page.select_option("select[name=action]", "export_csv")
            with page.expect_download() as download_info:
                page.click("button[name=index]")
            download = download_info.value
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            action_csv = saved.read_text(encoding="utf-8")

            # The API export, with the admin session (DRF's SessionAuthentication).
            api = page.request.get(
                f"{live_server.url}/api/invoices/export/?series={invoices[0].series}",
                headers={"Accept": "text/csv"},
            )
            api_status, api_headers, api_csv = api.status, api.headers, api.text()
        finally:
            browser.close()

    assert (listed, audit_link) == (2, 1)
    assert heading == "View invoice"
    assert (save_buttons, editable_names) == (0, 0)
    assert shown_name == "Alice Martin"
    expected = [invoices[0].number, invoices[1].number, note.number]
    assert saved.name == "invoices_selected.csv"
    assert [row[1] for row in rows_of(action_csv)[1:]] == expected
    assert api_status == 200
    assert api_headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="invoices_{invoices[0].series}_all.csv"' in api_headers["content-disposition"]
    api_rows = rows_of(api_csv)
    assert [row[1] for row in api_rows[1:]] == expected
    assert [row[14] for row in api_rows[1:]] == ["8.00", "11.50", "2.00"]
