"""GET /api/invoices/{number}/pdf/ and /api/credit-notes/{number}/pdf/: who opens what, how.

The files here are stand-ins (tests.documents.fake_stored_document): access, links and
integrity are tested, rendering is tested in tests/integration/test_documents.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from billing import invoicing
from billing.documents import links, store
from rentals import lifecycle
from tests.conftest import client_for, staff
from tests.documents import fake_stored_document
from tests.factories import MORNING, MemberFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(member, other_member):
    mine = issue(member.user_id)
    theirs = issue(other_member.user_id)
    fake_stored_document(mine)
    fake_stored_document(theirs)
    return mine, theirs


def _link(document, user) -> str:
    with transaction.atomic():
        link = links.link_of(document, now=timezone.now())
    return links.url_for(document, link, user).removeprefix("http://127.0.0.1:8000")


def test_a_member_opens_their_invoice_pdf_and_not_another_members(invoices, member_client):
    mine, theirs = invoices

    own = member_client.get(f"/api/invoices/{mine.number}/pdf/")
    other = member_client.get(f"/api/invoices/{theirs.number}/pdf/")

    assert own.status_code == 200
    assert own["Content-Type"] == "application/pdf"
    assert own.content == f"%PDF-1.7 stand-in for {mine.number}".encode()
    assert own["ETag"] == f'"{mine.stored.sha256}"'
    assert own["Cache-Control"] == "private, no-store"
    assert own["Content-Disposition"] == f'inline; filename="{mine.number}.pdf"'
    assert (other.status_code, other.json()["code"]) == (404, "invoice_not_found")


def test_the_invoice_json_shows_the_stored_files_hash(invoices, member_client):
    mine, _ = invoices

    body = member_client.get(f"/api/invoices/{mine.number}/").json()

    assert body["document"] == {
        "pdf": f"/api/invoices/{mine.number}/pdf/",
        "sha256": mine.stored.sha256,
        "size": mine.stored.size,
        "rendered_at": body["document"]["rendered_at"],
    }


def test_a_document_not_yet_rendered_is_a_conflict_to_retry_not_a_render_on_the_fly(
    member, member_client
):
    invoice = issue(member.user_id)

    response = member_client.get(f"/api/invoices/{invoice.number}/pdf/")

    assert (response.status_code, response.json()["code"]) == (409, "document_not_rendered")
    assert member_client.get(f"/api/invoices/{invoice.number}/").json()["document"] is None


def test_a_file_that_no_longer_matches_its_hash_is_refused(member, member_client):
    invoice = issue(member.user_id)
    stored = fake_stored_document(invoice)
    path = store.documents_storage().path(stored.storage_name)
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.7 altered")

    response = member_client.get(f"/api/invoices/{invoice.number}/pdf/")

    assert (response.status_code, response.json()["code"]) == (409, "document_altered")


def test_the_emailed_link_opens_that_document_without_a_password(invoices, member, client):
    mine, _ = invoices

    response = client.get(_link(mine, member.user), HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-1.7")
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_link_opens_no_other_document_not_even_the_same_members(invoices, member, client):
    mine, theirs = invoices
    second = issue(member.user_id)
    fake_stored_document(second)
    url = _link(mine, member.user)
    token = url.split("sesame=", 1)[1]

    for number in (second.number, theirs.number):
        response = client.get(f"/api/invoices/{number}/pdf/?sesame={token}")
        assert (response.status_code, response.json()["code"]) == (401, "document_link_invalid")
    # Nor the JSON, nor another endpoint: the token is no login.
    assert client.get(f"/api/invoices/{mine.number}/?sesame={token}").status_code == 401


def test_a_link_expires(invoices, member, client, settings):
    mine, _ = invoices
    url = _link(mine, member.user)
    max_age = timedelta(days=settings.DOCUMENTS["LINK_MAX_AGE_DAYS"])

    with time_machine.travel(timezone.now() + max_age - timedelta(minutes=1)):
        assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + max_age + timedelta(minutes=1)):
        response = client.get(url)
    assert (response.status_code, response.json()["code"]) == (401, "document_link_invalid")


def test_a_revoked_link_no_longer_opens(invoices, member, client):
    mine, _ = invoices
    url = _link(mine, member.user)

    links.revoke(kind="invoice", number=mine.number, now=timezone.now())

    assert client.get(url).status_code == 401
    assert client.get(_link(mine, member.user)).status_code == 200  # a new e-mail's link


def test_a_password_change_revokes_the_members_links(invoices, member, client):
    mine, _ = invoices
    url = _link(mine, member.user)

    member.user.set_password("another-long-password-2026")
    member.user.save()

    assert client.get(url).status_code == 401


def test_finance_and_auditors_open_every_credit_note_pdf(
    member, member_client, other_member_client
):
    invoice = issue(member.user_id)
    note = invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal("1.00"),
        reason="goodwill",
        issued_by_id=staff("finance").pk,
    )
    fake_stored_document(note)
    path = f"/api/credit-notes/{note.number}/pdf/"

    assert client_for(staff("finance")).get(path).status_code == 200
    assert client_for(staff("auditor")).get(path).status_code == 200
    assert member_client.get(path).status_code == 200
    refused = other_member_client.get(path)
    assert (refused.status_code, refused.json()["code"]) == (404, "credit_note_not_found")
    assert client_for(staff("fleet")).get(path).status_code == 403
    assert client_for(None).get(path).status_code == 401


def test_a_business_customer_is_registered_with_a_valid_siren_only(fleet_client):
    base = {
        "username": "radium",
        "password": "a-long-pass-phrase-2026",
        "plan": "standard",
        "billing_name": "Marie Curie",
        "billing_address": "5 rue Pierre et Marie Curie, 75005 Paris",
        "email": "marie@radium.example",
        "company_name": "Radium SARL",
    }

    bad = fleet_client.post("/api/members/", {**base, "siren": "552100555"}, format="json")
    no_name = fleet_client.post(
        "/api/members/", {**base, "company_name": "", "siren": "552100554"}, format="json"
    )
    wrong_vat = fleet_client.post(
        "/api/members/",
        {**base, "siren": "552100554", "vat_id": "FR11123456782"},
        format="json",
    )
    good = fleet_client.post(
        "/api/members/",
        {**base, "siren": "552 100 554", "vat_id": "FR 96 552100554"},
        format="json",
    )

    for refused, field in ((bad, "siren"), (no_name, "company_name"), (wrong_vat, "vat_id")):
        assert refused.status_code == 400, refused.content
        assert (refused.json().get("code"), refused.json().get("field")) == (
            "invalid_business_identity",
            field,
        )
    assert good.status_code == 201, good.content
    body = good.json()
    assert (body["company_name"], body["siren"], body["vat_id"], body["email"]) == (
        "Radium SARL",
        "552100554",
        "FR96552100554",
        "marie@radium.example",
    )


def test_a_business_customers_rental_invoice_snapshots_its_identity_and_terms(tariff, vehicle):
    member = MemberFactory(company_name="Radium SARL", siren="552100554", vat_id="FR96552100554")
    started = MORNING
    rental = lifecycle.start_rental(
        member=member, plate=vehicle.plate, started_at=None, now=started
    )
    rental = lifecycle.end_rental(
        member=member, rental_id=rental.pk, ended_at=None, now=started + timedelta(minutes=20)
    )

    invoice = rental.invoice
    assert (invoice.buyer_company, invoice.buyer_siren, invoice.buyer_vat_id) == (
        "Radium SARL",
        "552100554",
        "FR96552100554",
    )
    assert (invoice.payment_terms_days, invoice.seller_siren) == (30, "123456782")
    body = client_for(member.user).get(f"/api/invoices/{invoice.number}/").json()
    assert body["buyer"] == {
        "company": "Radium SARL",
        "siren": "552100554",
        "vat_id": "FR96552100554",
    }
