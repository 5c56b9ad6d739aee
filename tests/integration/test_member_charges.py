"""A new kind of charge reuses billing unchanged: numbering, hash chain, audit and export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import audit, charges, exports, queries
from billing.canonical import document_hash, invoice_content
from rentals import charges as member_charges
from rentals.models import MemberCharge
from tests.factories import MemberFactory, UserFactory, ZoneFactory

NOW = datetime(2026, 11, 3, 8, 6, tzinfo=UTC)  # 09:06 in Paris
CLEANING = member_charges.FeeLine(
    description="Cleaning", unit_price=Decimal("25.00"), vat_rate=Decimal("0.20")
)
FINE = member_charges.FeeLine(
    description="Parking fine no. 7731 passed through",
    unit_price=Decimal("35.00"),
    vat_rate=None,
    vat_exemption="Débours (CGI art. 267 II 2°)",
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paris():
    return ZoneFactory()


def charge(member, zone, lines, *, key="", by=None):
    return member_charges.charge_member(
        member=member,
        zone=zone,
        lines=lines,
        charged_by_id=(by or UserFactory()).pk,
        now=NOW,
        request_key=key,
    )


def test_a_fee_is_invoiced_at_once_in_the_zones_series_with_its_vat(paris):
    member = MemberFactory()

    recorded = charge(member, paris, [CLEANING])

    invoice = recorded.invoice
    assert (invoice.number, invoice.member_id, invoice.subject_kind) == (
        "PAR-2026-000001",
        member.user_id,
        "member_charge",
    )
    # 25.00 including 20 % VAT: 20.83 net + 4.17 VAT.
    assert (invoice.total, invoice.net, invoice.vat, invoice.vat_rate) == (
        Decimal("25.00"),
        Decimal("20.83"),
        Decimal("4.17"),
        Decimal("0.20"),
    )
    (line,) = queries.lines_of(invoice)
    assert (line.kind, line.description, line.amount, line.local_date) == (
        "FEE",
        "Cleaning",
        Decimal("25.00"),
        datetime(2026, 11, 3).date(),
    )
    assert document_hash(invoice_content(invoice, invoice.lines.all())) == invoice.hash


def test_a_fine_passed_through_and_its_handling_fee_show_vat_per_rate(paris):
    handling = member_charges.FeeLine(
        description="Fine handling", unit_price=Decimal("12.00"), vat_rate=Decimal("0.20")
    )

    invoice = charge(MemberFactory(), paris, [FINE, handling]).invoice

    assert [
        (g.vat_rate, g.vat_exemption, g.net, g.vat) for g in queries.vat_totals_of(invoice)
    ] == [
        (Decimal("0.20"), "", Decimal("10.00"), Decimal("2.00")),
        (None, FINE.vat_exemption, Decimal("35.00"), Decimal("0.00")),
    ]
    assert (invoice.total, invoice.vat_rate) == (Decimal("47.00"), None)


def test_charges_chain_audit_and_export_like_any_invoice(paris):
    member = MemberFactory()
    first = charge(member, paris, [CLEANING]).invoice
    second = charge(member, paris, [FINE]).invoice

    (report,) = audit.audit_sequences(series="PAR-2026")
    rows = list(csv.DictReader(io.StringIO("".join(exports.export_rows(series="PAR-2026")))))

    assert second.previous_hash == first.hash
    assert report.clean and report.count == 2
    assert [(row["number"], row["total"], row["vat_rate"]) for row in rows] == [
        (first.number, "25.00", "0.20"),
        (second.number, "35.00", ""),
    ]


def test_the_same_request_key_charges_once(paris):
    member, finance = MemberFactory(), UserFactory()

    first = charge(member, paris, [CLEANING], key="k-1", by=finance)
    again = charge(member, paris, [CLEANING], key="k-1", by=finance)

    assert again.pk == first.pk
    assert MemberCharge.objects.count() == 1
    assert audit.audit_sequences(series="PAR-2026")[0].count == 1


def test_a_line_outside_the_scope_of_vat_needs_its_legal_reason_and_nothing_is_issued(paris):
    no_reason = member_charges.FeeLine(
        description="Toll", unit_price=Decimal("4.20"), vat_rate=None
    )

    with pytest.raises(charges.InvalidCharge) as refused:
        charge(MemberFactory(), paris, [no_reason])

    assert refused.value.details["field"] == "vat_exemption"
    assert not MemberCharge.objects.exists()
    assert audit.audit_sequences() == []


def test_a_charge_without_lines_or_with_sub_cent_amounts_is_refused(paris):
    with pytest.raises(member_charges.InvalidMemberCharge):
        charge(MemberFactory(), paris, [])
    with pytest.raises(member_charges.InvalidMemberCharge):
        charge(
            MemberFactory(),
            paris,
            [
                member_charges.FeeLine(
                    description="x", unit_price=Decimal("0.125"), vat_rate=Decimal(0)
                )
            ],
        )
