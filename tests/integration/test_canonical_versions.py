"""Documents issued under canonical version 1 verify unchanged; version 2 carries VAT per line.

The version-1 rows come from ``tests/data/canonical_v1_documents.json``: an invoice and a
credit note issued by the code before the charge contract, with the hashes it computed. They
are written into the schema of that time (migration ``billing 0004``), then the migrations
run forward over them, as they will in production.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from billing import audit, charges, invoicing, numbering, queries
from billing.canonical import credit_note_content, document_hash, invoice_content
from billing.models import CreditNote, Invoice
from core import clock
from core.transactions import run_in_transaction
from tests.conftest import client_for, staff
from tests.factories import UserFactory

V1 = json.loads((Path(__file__).parents[1] / "data" / "canonical_v1_documents.json").read_text())
BEFORE_THE_CONTRACT = [("billing", "0004_credit_note_request_key")]

pytestmark = pytest.mark.django_db(transaction=True)


def _insert(cursor, table: str, row: dict) -> None:
    columns = ", ".join(row)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(row))})",
        list(row.values()),
    )


@pytest.fixture
def v1_documents():
    """The version-1 invoice and credit note, written before the migration, migrated since."""
    UserFactory(id=V1["invoice"]["customer_id"], username="alice")
    UserFactory(id=V1["credit_note"]["issued_by_id"], username="fiona")
    # The ids are hashed, so they are given; move PostgreSQL's id sequence past them (as
    # loaddata does), or the next user made by the test could be given one of them.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [get_user_model()]):
            cursor.execute(statement)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE_THE_CONTRACT)
    try:
        # One transaction, as the issuing code wrote them: on PostgreSQL a line may only be
        # added in the transaction that inserted its invoice.
        with transaction.atomic(), connection.cursor() as cursor:
            _insert(cursor, "billing_invoice", V1["invoice"])
            cursor.execute(
                "SELECT id FROM billing_invoice WHERE number = %s", [V1["invoice"]["number"]]
            )
            (invoice_id,) = cursor.fetchone()
            for line in V1["lines"]:
                _insert(cursor, "billing_invoiceline", {**line, "invoice_id": invoice_id})
            _insert(cursor, "billing_creditnote", {**V1["credit_note"], "invoice_id": invoice_id})
            # The counters as the issuing code left them.
            for document in (V1["invoice"], V1["credit_note"]):
                _insert(cursor, "sequences_sequence", {"name": document["series"], "last": 1})
    finally:
        # Whatever happened, the next tests need the current schema back.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    return Invoice.objects.get(number=V1["invoice"]["number"])


def test_version_1_documents_keep_their_hashes_through_the_migrations(v1_documents):
    invoice = v1_documents
    note = CreditNote.objects.get(number=V1["credit_note"]["number"])

    assert invoice.canonical_version == note.canonical_version == 1
    assert document_hash(invoice_content(invoice, invoice.lines.all())) == V1["invoice"]["hash"]
    assert document_hash(credit_note_content(note, invoice.number)) == V1["credit_note"]["hash"]
    assert invoice.member_id == V1["invoice"]["customer_id"]
    reports = {report.series: report for report in audit.audit_sequences()}
    assert reports["PAR-2026"].clean and reports["AV-PAR-2026"].clean
    # Issued before the journal, both were posted once by its migration, as their totals say.
    assert (invoice.journal_entry.number, note.journal_entry.reverses) == (
        1,
        invoice.journal_entry,
    )
    assert audit.audit_accounts().clean


def test_a_version_1_invoice_reads_as_before_with_its_one_vat_rate(v1_documents):
    body = client_for(staff("finance")).get(f"/api/invoices/{v1_documents.number}/").json()

    old_fields = ("kind", "date", "band_starts_at", "minutes", "rate", "amount", "capped")
    assert [tuple(line[name] for name in old_fields) for line in body["lines"]] == [
        ("UNLOCK_FEE", "2026-10-24", None, 0, None, "1.00", False),
        ("MINUTES", "2026-10-24", "22:00", 70, "0.20", "14.00", False),
        ("MINUTES", "2026-10-25", "22:00", 480, "0.20", "96.00", True),
        ("MINUTES", "2026-10-25", "07:00", 670, "0.35", "234.50", True),
        ("DAILY_CAP", "2026-10-25", None, 0, None, "-285.50", True),
    ]
    assert (body["minutes"], body["vat_rate"], body["net"], body["vat"]) == (
        1220,
        "0.20",
        "50.00",
        "10.00",
    )
    assert body["vat_breakdown"] == [
        {"vat_rate": "0.20", "vat_exemption": "", "net": "50.00", "vat": "10.00", "total": "60.00"}
    ]
    assert {line["vat_rate"] for line in body["lines"]} == {"0.20"}


@pytest.fixture
def issued_in_december_2026(monkeypatch):
    """Date new documents after the version-1 ones, in their year, whatever today's date is."""
    at = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "read_database_clock", lambda: at)
    return at


def test_a_version_2_invoice_chains_after_a_version_1_one_and_carries_vat_per_line(
    v1_documents, issued_in_december_2026
):
    fine = charges.ChargeLine(
        kind="FEE",
        description="Parking fine passed through",
        quantity=Decimal(1),
        unit="unit",
        unit_price=Decimal("35.00"),
        amount=Decimal("35.00"),
        vat_rate=None,
        vat_exemption="Débours (CGI art. 267 II 2°)",
    )
    handling = charges.ChargeLine(
        kind="FEE",
        description="Fine handling fee",
        quantity=Decimal(1),
        unit="unit",
        unit_price=Decimal("12.00"),
        amount=Decimal("12.00"),
        vat_rate=Decimal("0.20"),
    )
    at = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    charge = charges.Charge(
        currency="EUR", time_zone="Europe/Paris", started_at=at, ended_at=at, lines=(fine, handling)
    )
    invoice = run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=v1_documents.member_id, billing_name="Alice", billing_address="Paris"
            ),
            charge=charge,
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=1,
        )
    )

    assert (invoice.canonical_version, invoice.sequence) == (2, 2)
    assert invoice.previous_hash == v1_documents.hash
    # VAT per rate: 12.00 at 20 % is 10.00 + 2.00; the fine is outside the scope of VAT.
    assert (invoice.total, invoice.net, invoice.vat, invoice.vat_rate) == (
        Decimal("47.00"),
        Decimal("45.00"),
        Decimal("2.00"),
        None,
    )
    assert [(group.vat_rate, group.net, group.vat) for group in queries.vat_totals_of(invoice)] == [
        (Decimal("0.20"), Decimal("10.00"), Decimal("2.00")),
        (None, Decimal("35.00"), Decimal("0.00")),
    ]
    content = invoice_content(invoice, invoice.lines.all())
    assert content["version"] == 2
    assert [line["vat_rate"] for line in content["lines"]] == [None, Decimal("0.2000")]
    assert audit.audit_sequences(series="PAR-2026")[0].clean


def test_a_partial_credit_of_a_mixed_invoice_reverses_each_rate_in_proportion(
    db, issued_in_december_2026
):
    user = UserFactory()
    lines = (
        charges.ChargeLine(
            kind="FEE",
            description="Toll passed through",
            quantity=Decimal(1),
            unit="unit",
            unit_price=Decimal("30.00"),
            amount=Decimal("30.00"),
            vat_rate=None,
            vat_exemption="Débours",
        ),
        charges.ChargeLine(
            kind="FEE",
            description="Cleaning",
            quantity=Decimal(1),
            unit="unit",
            unit_price=Decimal("60.00"),
            amount=Decimal("60.00"),
            vat_rate=Decimal("0.20"),
        ),
    )
    at = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    charge = charges.Charge(
        currency="EUR",
        time_zone="Europe/Paris",
        started_at=at,
        ended_at=at + timedelta(seconds=0),
        lines=lines,
    )
    invoice = run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="B", billing_address="Paris"
            ),
            charge=charge,
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=2,
        )
    )

    note = invoicing.issue_credit_note(
        invoice_number=invoice.number, amount=Decimal("9.00"), reason="x", issued_by_id=user.pk
    )

    # 9.00 shared 60:30 over the rates: 6.00 at 20 % (5.00 + 1.00) and 3.00 out of scope.
    assert [(g.vat_rate, g.total, g.net, g.vat) for g in queries.vat_totals_of(note)] == [
        (Decimal("0.2000"), Decimal("6.00"), Decimal("5.00"), Decimal("1.00")),
        (None, Decimal("3.00"), Decimal("3.00"), Decimal("0.00")),
    ]
    assert (note.net, note.vat, note.total) == (Decimal("8.00"), Decimal("1.00"), Decimal("9.00"))
    assert audit.audit_sequences(series="AV-PAR-2026")[0].clean


# Version 1 as released: its hashed fields never change (its documents must keep verifying).
VERSION_1_INVOICE_FIELDS = (
    "number", "series", "sequence", "issued_at", "time_zone", "customer_id",
    "billing_name", "billing_address", "seller_name", "seller_address", "seller_vat_id",
    "subject_kind", "subject_id", "period_started_at", "period_ended_at", "minutes",
    "currency", "net", "vat_rate", "vat", "total", "previous_hash",
)  # fmt: skip
PRINTED_SNAPSHOT = (
    "seller_legal_form", "seller_siren", "buyer_company", "buyer_siren", "buyer_vat_id",
    "payment_terms_days",
)  # fmt: skip


def test_version_2_hashes_what_the_pdf_prints_and_version_1_is_unchanged(v1_documents):
    v1_content = invoice_content(v1_documents, v1_documents.lines.all())
    assert tuple(name for name in v1_content if name not in {"type", "version", "lines"}) == (
        VERSION_1_INVOICE_FIELDS
    )
    assert not set(PRINTED_SNAPSHOT) & set(v1_content)

    business = invoicing.BillingIdentity(
        member_id=v1_documents.member_id,
        billing_name="Marie Curie",
        billing_address="5 rue Pierre et Marie Curie, 75005 Paris",
        company_name="Radium SARL",
        siren="552100554",
        vat_id="FR96552100554",
    )
    at = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    charge = charges.Charge(
        currency="EUR",
        time_zone="Europe/Paris",
        started_at=at,
        ended_at=at,
        lines=(
            charges.ChargeLine(
                kind="FEE",
                description="Cleaning",
                quantity=Decimal(1),
                unit="unit",
                unit_price=Decimal("60.00"),
                amount=Decimal("60.00"),
                vat_rate=Decimal("0.20"),
            ),
        ),
    )
    invoice = run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=business,
            charge=charge,
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=7,
        )
    )

    content = invoice_content(invoice, invoice.lines.all())
    assert {name: content[name] for name in PRINTED_SNAPSHOT} == {
        "seller_legal_form": "SAS au capital de 10 000 €",
        "seller_siren": "123456782",
        "buyer_company": "Radium SARL",
        "buyer_siren": "552100554",
        "buyer_vat_id": "FR96552100554",
        "payment_terms_days": 30,
    }
    assert document_hash(content) == invoice.hash
    # Any of them changed gives another hash: the audit would name the invoice.
    assert document_hash({**content, "buyer_siren": "732829320"}) != invoice.hash
    assert audit.audit_sequences(series="PAR-2026")[0].clean


def test_the_finance_admin_shows_a_version_1_invoice_like_a_version_2_one(v1_documents, client):
    import importlib

    from django.contrib.auth.models import Permission

    # A transactional test before this one may have flushed what billing's migration 0003
    # grants to finance: grant it again.
    grants = importlib.import_module("billing.migrations.0003_finance_and_auditors_view_documents")
    finance = staff("finance")
    finance.groups.get().permissions.add(
        *Permission.objects.filter(
            content_type__app_label="billing", codename__in=grants.PERMISSIONS
        )
    )
    client.force_login(finance)

    page = client.get(f"/admin/billing/invoice/{v1_documents.pk}/change/").text

    # 2026-12-02 14:22 UTC is 15:22 in Paris; the lines read back as the charge contract's.
    assert "2026-12-02 15:22 +01:00" in page
    assert (
        "<td>Minutes, 07:00 band</td><td>2026-10-25</td><td class='amount'>670 minute</td>" in page
    )
    assert "<td class='amount'>0.35</td><td class='amount'>234.50</td><td>20%</td>" in page
    assert "<td class='amount'>-285.50</td>" in page
    assert "<tr><td>20%</td><td class='amount'>50.00</td><td class='amount'>10.00</td>" in page
    assert "1.0000" not in page and "0.2000" not in page
