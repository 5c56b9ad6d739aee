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
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from billing import audit, charges, invoicing, numbering, queries
from billing.canonical import credit_note_content, document_hash, invoice_content
from billing.models import CreditNote, Invoice
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
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE_THE_CONTRACT)
    # One transaction, as when issued: PostgreSQL accepts an invoice's lines only with it.
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


def test_a_version_2_invoice_chains_after_a_version_1_one_and_carries_vat_per_line(
    v1_documents,
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


def test_a_partial_credit_of_a_mixed_invoice_reverses_each_rate_in_proportion(db):
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
