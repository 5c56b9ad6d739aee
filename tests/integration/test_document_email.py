"""The document e-mail goes through Django's SMTP backend to a real server on loopback."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from billing.documents import mail
from tests.conftest import client_for
from tests.documents import fake_stored_document
from tests.factories import MemberFactory
from tests.invoices import issue
from tests.smtp import link_in, smtp_server

pytestmark = pytest.mark.django_db


def test_the_member_receives_one_email_whose_link_opens_the_pdf(settings, client):
    member = MemberFactory(user__email="alice@example.org", billing_name="Alice Martin")
    invoice = issue(member.user_id)
    fake_stored_document(invoice)

    with smtp_server(settings) as mailbox:
        sent = mail.email_document(kind="invoice", document_id=invoice.pk, now=timezone.now())
        again = mail.email_document(kind="invoice", document_id=invoice.pk, now=timezone.now())

    assert (sent, again) == (True, False)  # once, even if the job runs again
    (message,) = mailbox.messages
    assert message["To"] == "alice@example.org"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Subject"].strip() == f"Votre facture {invoice.number} — Autopartage Démo SAS"
    assert "Bonjour Alice Martin" in message.get_body(preferencelist=("plain",)).get_content()
    link = urlsplit(link_in(message))
    assert link.path == f"/api/invoices/{invoice.number}/pdf/"
    response = client.get(f"{link.path}?{link.query}")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-1.7")
    assert client_for(None).get(link.path).status_code == 401  # the token is the key


def test_a_member_without_an_address_gets_no_email_and_the_job_succeeds(settings):
    member = MemberFactory(user__email="")
    invoice = issue(member.user_id)
    fake_stored_document(invoice)

    with smtp_server(settings) as mailbox:
        sent = mail.email_document(kind="invoice", document_id=invoice.pk, now=timezone.now())

    assert (sent, mailbox.messages) == (False, [])
