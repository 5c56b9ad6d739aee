"""A finance user in a real headless Chromium: log in, read the list and an invoice as the
documents say them (local time with its offset, amounts, credit notes), filter a period,
download exports, all in a 1,400 px wide window with no horizontal scrolling.

Chromium is Debian's (``/usr/bin/chromium``, ``make browser-deps``), driven by Playwright's
own driver; ``playwright install`` is never run. Without the browser the test skips on a
developer's machine and fails under CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import csv
import importlib
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from billing import invoicing
from core import clock
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "finance-browser-pass"
VIEWPORT = {"width": 1400, "height": 900}
WINTER_MORNING = datetime(2026, 1, 15, 8, 6, tzinfo=UTC)  # 09:06 +01:00 in Paris
# Scrolling sideways on the page or in the results table: columns do not fit.
OVERFLOW = """() => {
  const page = document.documentElement, results = document.querySelector('.results');
  return {page: page.scrollWidth - page.clientWidth,
          results: results ? results.scrollWidth - results.clientWidth : 0};
}"""
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
def books(monkeypatch):
    # Dated by a pinned database clock: 15 January 08:06 UTC, 20 January, 1 February.
    pinned = [WINTER_MORNING]
    monkeypatch.setattr(clock, "read_database_clock", lambda: pinned[0])
    customer = UserFactory()
    # A long name, as members type them: it must wrap, not widen the list.
    long_name = "Alice Martin-Delacroix de la Fontaine, Société de Transports Urbains"
    first = issue(customer.pk)
    pinned[0] = WINTER_MORNING + timedelta(days=5)
    invoices = [first, issue(customer.pk, minutes=30, billing_name=long_name)]
    pinned[0] = datetime(2026, 2, 1, 9, tzinfo=UTC)
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
            page = browser.new_page(accept_downloads=True, viewport=VIEWPORT)
            page.set_default_timeout(30_000)

            page.goto(f"{live_server.url}/admin/login/?next=/admin/billing/invoice/")
            page.fill("#id_username", finance_user.username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/billing/invoice/")
            listed = page.locator("#result_list tbody tr").count()
            audit_link = page.get_by_role("link", name="Audit sequences").count()
            first_row = page.locator("#result_list tbody tr", has_text=invoices[0].number)
            first_issued = first_row.locator("td.field-issued_local").inner_text()
            first_total = first_row.locator("td.field-total_amount").inner_text()
            totals = page.locator("#totals tbody tr").inner_text()
            list_overflow = page.evaluate(OVERFLOW)

            page.click(f"text={invoices[1].number}")
            page.wait_for_url(f"**/admin/billing/invoice/{invoices[1].pk}/change/")
            heading = page.locator("#content h1").inner_text()
            save_buttons = page.locator("input[name=_save]").count()
            editable_names = page.locator("[name=billing_name]").count()
            shown_name = page.locator(".field-billing_name .readonly").inner_text()

            page.goto(f"{live_server.url}/admin/billing/invoice/{invoices[0].pk}/change/")
            shown_issued = page.locator(".field-issued_local .readonly").inner_text()
            line_rates = page.locator("table.document-lines tbody td:last-child").all_inner_texts()
            invoice_overflow = page.evaluate(OVERFLOW)
            page.click(f".field-credit_note_list a:has-text('{note.number}')")
            page.wait_for_url(f"**/admin/billing/creditnote/{note.pk}/change/")
            note_heading = page.locator("#content h1").inner_text()
            page.click(".field-member_column a")
            page.wait_for_url("**/admin/billing/invoice/?member=*")
            member_listed = page.locator("#result_list tbody tr").count()

            page.goto(f"{live_server.url}/admin/billing/invoice/")
            page.check("#action-toggle")
            page.select_option("select[name=action]", "export_csv")
            with page.expect_download() as download_info:
                page.click("button[name=index]")
            download = download_info.value
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            action_csv = saved.read_text(encoding="utf-8")

            # A custom period in local dates, then its export from the list's own link.
            page.fill("#issued_from", "2026-01-16")
            page.fill("#issued_to", "2026-02-01")
            page.click("#issued-period button")
            page.wait_for_url("**/admin/billing/invoice/?issued_from=2026-01-16&issued_to=*")
            period_listed = page.locator("#result_list tbody tr").count()
            with page.expect_download() as download_info:
                page.click("#export-period")
            period_download = download_info.value
            period_saved = tmp_path / period_download.suggested_filename
            period_download.save_as(period_saved)
            period_csv = period_saved.read_text(encoding="utf-8")

            # The API export, with the admin session (DRF's SessionAuthentication).
            api = page.request.get(
                f"{live_server.url}/api/invoices/export/?series={invoices[0].series}",
                headers={"Accept": "text/csv"},
            )
            api_status, api_headers, api_csv = api.status, api.headers, api.text()
        finally:
            browser.close()

    assert (listed, audit_link) == (2, 1)
    assert (first_issued, first_total) == ("2026-01-15 09:06 +01:00", "8.00 EUR")
    assert totals.split() == ["EUR", "2", "16.25", "3.25", "19.50"]
    assert list_overflow == {"page": 0, "results": 0}
    assert invoice_overflow == {"page": 0, "results": 0}
    assert shown_issued == "2026-01-15 09:06 +01:00"
    assert line_rates == ["20%", "20%"]
    assert note_heading == "View credit note"
    assert member_listed == 2
    assert period_listed == 1
    assert period_saved.name == "invoices_2026-01-16_2026-02-01.csv"
    assert [row[1] for row in rows_of(period_csv)[1:]] == [invoices[1].number]
    assert heading == "View invoice"
    assert (save_buttons, editable_names) == (0, 0)
    assert shown_name == "Alice Martin-Delacroix de la Fontaine, Société de Transports Urbains"
    expected = [invoices[0].number, invoices[1].number, note.number]
    assert saved.name == "invoices_selected.csv"
    assert [row[1] for row in rows_of(action_csv)[1:]] == expected
    assert api_status == 200
    assert api_headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="invoices_{invoices[0].series}_all.csv"' in api_headers["content-disposition"]
    api_rows = rows_of(api_csv)
    assert [row[1] for row in api_rows[1:]] == expected
    assert [row[14] for row in api_rows[1:]] == ["8.00", "11.50", "2.00"]
