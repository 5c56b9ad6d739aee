"""Each issued document posts one balanced entry, numbered without gaps, never edited."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from sequences.models import Sequence

from billing import audit, invoicing, numbering, queries
from billing.accounting import journal
from billing.accounting.models import AccountChart, JournalEntry, JournalLine
from billing.immutability import ImmutableDocument
from billing.models import Invoice
from core.transactions import run_in_transaction
from tests.books import CLEANING, FINE, PARKING, credit_at, invoice_at
from tests.factories import UserFactory
from tests.invoices import charge

pytestmark = pytest.mark.django_db

JUNE = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def lines_of(entry: JournalEntry) -> list[tuple[str, str, str, str, str]]:
    """The entry's lines as (account, auxiliary account, label, debit, credit)."""
    return [
        (
            line.account,
            line.auxiliary_account,
            line.label,
            f"{line.debit:.2f}",
            f"{line.credit:.2f}",
        )
        for line in entry.lines.order_by("position")
    ]


@pytest.fixture
def user():
    return UserFactory()


def test_an_invoice_debits_the_members_receivable_and_credits_revenue_and_vat(db_clock, user):
    invoice = invoice_at(db_clock, JUNE, user.pk)  # 20 minutes: 8.00 with 20 % VAT

    entry = invoice.journal_entry
    assert (entry.journal_code, entry.fiscal_year, entry.number) == ("VEPAR", 2026, 1)
    assert (entry.document_kind, entry.document_number, entry.entry_date) == (
        "INVOICE",
        invoice.number,
        datetime(2026, 6, 1).date(),
    )
    aux = f"411{user.pk:07d}"
    assert lines_of(entry) == [
        ("411", aux, f"Facture {invoice.number}", "8.00", "0.00"),
        ("706", "", f"Facture {invoice.number} HT 20 %", "0.00", "6.67"),
        ("44571", "", f"Facture {invoice.number} TVA 20 %", "0.00", "1.33"),
    ]
    assert (entry.amount, entry.line_count) == (Decimal("8.00"), 3)
    assert entry.lines.get(position=1).auxiliary_label == "Alice Martin"


def test_each_vat_rate_credits_its_own_lines_and_a_fine_passed_through_its_own_account(
    db_clock, user
):
    invoice = invoice_at(db_clock, JUNE, user.pk, lines=(CLEANING, PARKING, FINE))

    assert lines_of(invoice.journal_entry) == [
        ("411", f"411{user.pk:07d}", f"Facture {invoice.number}", "71.00", "0.00"),
        ("706", "", f"Facture {invoice.number} HT 20 %", "0.00", "20.83"),
        ("44571", "", f"Facture {invoice.number} TVA 20 %", "0.00", "4.17"),
        ("706", "", f"Facture {invoice.number} HT 10 %", "0.00", "10.00"),
        ("44571", "", f"Facture {invoice.number} TVA 10 %", "0.00", "1.00"),
        # Outside the scope of VAT: neither revenue nor VAT.
        ("467", "", f"Facture {invoice.number} hors champ TVA", "0.00", "35.00"),
    ]


def test_a_credit_note_posts_the_reverse_and_refers_to_the_invoices_entry(db_clock, user):
    invoice = invoice_at(db_clock, JUNE, user.pk, lines=(CLEANING, FINE))

    note = credit_at(db_clock, JUNE.replace(hour=11), invoice, "12.00", user.pk)

    entry = note.journal_entry
    assert (entry.journal_code, entry.number, entry.reverses) == ("AVPAR", 1, invoice.journal_entry)
    label = f"Avoir {note.number} sur {invoice.number}"
    # 12.00 shared over 25.00 at 20 % and 35.00 outside VAT: 5.00 and 7.00.
    assert lines_of(entry) == [
        ("411", f"411{user.pk:07d}", label, "0.00", "12.00"),
        ("706", "", f"{label} HT 20 %", "4.17", "0.00"),
        ("44571", "", f"{label} TVA 20 %", "0.83", "0.00"),
        ("467", "", f"{label} hors champ TVA", "7.00", "0.00"),
    ]


def test_entries_are_numbered_per_journal_and_fiscal_year_in_the_zones_calendar(db_clock, user):
    last_of_2026 = invoice_at(db_clock, datetime(2026, 12, 31, 22, 59, tzinfo=UTC), user.pk)
    # 00:30 on 1 January in Paris: the 2027 series, fiscal year and journal numbers.
    first_of_2027 = invoice_at(db_clock, datetime(2026, 12, 31, 23, 30, tzinfo=UTC), user.pk)
    second_of_2027 = invoice_at(db_clock, datetime(2027, 1, 1, 9, 0, tzinfo=UTC), user.pk)
    lyon = invoice_at(db_clock, datetime(2027, 1, 1, 10, 0, tzinfo=UTC), user.pk, prefix="LYO")

    assert [
        (i.journal_entry.journal_code, i.journal_entry.fiscal_year, i.journal_entry.number)
        for i in (last_of_2026, first_of_2027, second_of_2027, lyon)
    ] == [("VEPAR", 2026, 1), ("VEPAR", 2027, 1), ("VEPAR", 2027, 2), ("VELYO", 2027, 1)]
    assert first_of_2027.journal_entry.entry_date.isoformat() == "2027-01-01"
    assert audit.audit_accounts().clean


def test_a_fiscal_year_may_start_in_another_month(db_clock, user, settings):
    settings.BILLING = {**settings.BILLING, "FISCAL_YEAR_START_MONTH": 7}

    june = invoice_at(db_clock, datetime(2026, 6, 30, 21, 59, tzinfo=UTC), user.pk)
    july = invoice_at(db_clock, datetime(2026, 6, 30, 22, 0, tzinfo=UTC), user.pk)  # 1 July

    assert (june.journal_entry.fiscal_year, july.journal_entry.fiscal_year) == (2026, 2027)
    assert (june.journal_entry.number, july.journal_entry.number) == (1, 1)


def test_a_zones_chart_overrides_the_default_accounts_and_journal(db_clock, user):
    AccountChart.objects.create(
        series_prefix="LYO",
        revenue_account="706100",
        revenue_label="Locations Lyon",
        sales_journal_code="VTLYO",
    )

    lyon = invoice_at(db_clock, JUNE, user.pk, prefix="LYO")
    paris = invoice_at(db_clock, JUNE, user.pk)

    assert lyon.journal_entry.journal_code == "VTLYO"
    assert lyon.journal_entry.journal_label == "Ventes LYO"  # blank: the default
    assert [line.account for line in lyon.journal_entry.lines.order_by("position")] == [
        "411",
        "706100",
        "44571",
    ]
    assert lyon.journal_entry.lines.get(position=2).account_label == "Locations Lyon"
    assert [line.account for line in paris.journal_entry.lines.order_by("position")] == [
        "411",
        "706",
        "44571",
    ]


def test_a_credit_note_reverses_the_accounts_its_invoice_used_even_after_a_chart_change(
    db_clock, user
):
    invoice = invoice_at(db_clock, JUNE, user.pk)
    AccountChart.objects.create(series_prefix="PAR", revenue_account="706200")

    note = credit_at(db_clock, JUNE.replace(hour=12), invoice, "8.00", user.pk)

    assert [line.account for line in note.journal_entry.lines.order_by("position")] == [
        "411",
        "706",
        "44571",
    ]


def test_a_rolled_back_issue_leaves_no_entry_and_no_gap(db_clock, user):
    class Refused(Exception):
        """Raised by the use case after the invoice and its entry were stored."""

    def issue_then_fail():
        invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=user.pk, billing_name="Alice Martin", billing_address="Paris"
            ),
            charge=charge(),
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=0,
        )
        assert JournalEntry.objects.count() == 1
        raise Refused

    with pytest.raises(Refused):
        run_in_transaction(issue_then_fail)
    assert not JournalEntry.objects.exists()

    first = invoice_at(db_clock, JUNE, user.pk)

    assert (first.sequence, first.journal_entry.number) == (1, 1)


def test_posted_entries_and_lines_cannot_be_changed_through_the_orm(db_clock, user):
    entry = invoice_at(db_clock, JUNE, user.pk).journal_entry

    with pytest.raises(ImmutableDocument):
        entry.save()
    with pytest.raises(ImmutableDocument):
        JournalEntry.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(ImmutableDocument):
        JournalLine.objects.filter(entry=entry).delete()
    with pytest.raises(ImmutableDocument):
        entry.lines.first().delete()


def test_documents_issued_before_the_journal_post_in_issue_order_as_if_posted_at_issue(
    db_clock, user
):
    from importlib import import_module

    from django.apps import apps

    backlog = import_module("billing.migrations.0010_post_documents_issued_before_the_journal")
    invoices = [
        invoice_at(db_clock, datetime(2026, 6, day, 9, tzinfo=UTC), user.pk, lines=(CLEANING, FINE))
        for day in (1, 2, 3)
    ]
    credit_at(db_clock, datetime(2026, 6, 4, 9, tzinfo=UTC), invoices[1], "10.00", user.pk)
    posted = {
        entry.document_number: (entry.journal_code, entry.number, entry.entry_date, lines_of(entry))
        for entry in JournalEntry.objects.all()
    }
    _forget_the_journal()

    backlog.post_backlog(apps, None)

    assert {
        entry.document_number: (entry.journal_code, entry.number, entry.entry_date, lines_of(entry))
        for entry in JournalEntry.objects.all()
    } == posted
    assert JournalEntry.objects.get(credit_note__isnull=False).reverses.invoice == invoices[1]
    assert audit.audit_accounts().clean


def _forget_the_journal():
    """Empty the journal and its counters, as before the release that brought it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in ("billing_journalline", "billing_journalentry"):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
        cursor.execute("DELETE FROM billing_journalline")
        cursor.execute("DELETE FROM billing_journalentry WHERE reverses_id IS NOT NULL")
        cursor.execute("DELETE FROM billing_journalentry")
        if connection.vendor == "postgresql":
            for table in ("billing_journalline", "billing_journalentry"):
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_immutable")
            # Back to the initially deferred checks, as in the migration's own transaction.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    Sequence.objects.filter(name__startswith="journal:").delete()
    assert not Invoice.objects.filter(journal_entry__isnull=False).exists()


def test_the_journal_counter_is_named_for_the_journal_and_its_fiscal_year():
    assert journal.counter_name("VEPAR", 2027) == "journal:VEPAR:2027"


def test_a_batch_of_invoices_posts_in_number_order_with_a_run_of_entry_numbers_per_year(
    db_clock, user, settings, monkeypatch
):
    settings.BILLING = {**settings.BILLING, "FISCAL_YEAR_START_MONTH": 7}
    post_invoices = journal.post_invoices
    monkeypatch.setattr(journal, "post_invoices", lambda **kwargs: [])  # posted below instead
    batch = [
        invoice_at(db_clock, datetime(2026, 6, 30, hour, tzinfo=UTC), user.pk, lines=(CLEANING,))
        for hour in (20, 21, 22)  # 22:00Z is 1 July in Paris: the next fiscal year
    ]
    monkeypatch.setattr(journal, "post_invoices", post_invoices)

    posted = run_in_transaction(
        lambda: journal.post_invoices(
            invoices=[(invoice, queries.vat_totals_of(invoice)) for invoice in batch],
            series_prefix="PAR",
        )
    )
    after = invoice_at(db_clock, datetime(2026, 7, 2, 9, tzinfo=UTC), user.pk)

    assert [(e.document_number, e.fiscal_year, e.number) for e in posted] == [
        (batch[0].number, 2026, 1),
        (batch[1].number, 2026, 2),
        (batch[2].number, 2027, 1),
    ]
    assert after.journal_entry.number == 2
    assert lines_of(posted[0])[0] == ("411", f"411{user.pk:07d}", posted[0].label, "25.00", "0.00")
    assert audit.audit_accounts().clean
