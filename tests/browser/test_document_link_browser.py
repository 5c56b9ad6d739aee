"""A member follows the e-mailed link in headless Chromium and gets the invoice's PDF.

The invoice is issued and committed, a real worker renders it and e-mails the link through
a real SMTP server on loopback; Chromium (Debian's, as in test_admin_browser) then opens
the link, the same token on another invoice's URL, and the link once it has expired.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone

from billing.models import StoredDocument
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.documents import reset_jobs, run_jobs
from tests.factories import MemberFactory
from tests.invoices import issue
from tests.smtp import link_in, smtp_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(page, url: str) -> tuple[int, dict[str, str], str]:
    """Navigate to ``url``; return the response's status, headers and the page's text.

    Chromium shows a PDF in its viewer, whose page replaces the body Playwright sees: the
    file is recognised by its headers (its type, size and SHA-256 in the ETag).
    """
    path = url.split("?", 1)[0]
    with (
        page.expect_response(lambda response: response.url.split("?", 1)[0] == path) as info,
        contextlib.suppress(Exception),  # a PDF may also turn into a download
    ):
        page.goto(url)
    response = info.value
    return response.status, response.all_headers(), page.content()


def test_the_emailed_link_opens_that_pdf_only_and_only_until_it_expires(
    live_server, sync_playwright, settings
):
    reset_jobs()
    settings.DOCUMENTS = {**settings.DOCUMENTS, "PUBLIC_BASE_URL": live_server.url}
    member = MemberFactory(user__email="alice@example.org")
    invoice = issue(member.user_id)
    other = issue(member.user_id, minutes=30)
    with smtp_server(settings) as mailbox:
        run_jobs()
    stored = StoredDocument.objects.get(invoice=invoice)
    message = next(m for m in mailbox.messages if invoice.number in m["Subject"])
    link = link_in(message)
    token = urlsplit(link).query
    elsewhere = f"{live_server.url}/api/invoices/{other.number}/pdf/?{token}"
    expired_at = timezone.now() + timedelta(days=settings.DOCUMENTS["LINK_MAX_AGE_DAYS"], hours=1)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(accept_downloads=True)
            page.set_default_timeout(30_000)
            opened = _open(page, link)
            refused_elsewhere = _open(page, elsewhere)
            with time_machine.travel(expired_at):
                refused_later = _open(page, link)
        finally:
            browser.close()

    reset_jobs()
    status, headers, _ = opened
    assert (status, headers["content-type"]) == (200, "application/pdf")
    assert (headers["etag"], int(headers["content-length"])) == (f'"{stored.sha256}"', stored.size)
    for refused in (refused_elsewhere, refused_later):
        assert refused[0] == 401
        assert "document_link_invalid" in refused[2]
