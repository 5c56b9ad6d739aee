"""The audit names what was done to the accounts behind the guards' back.

Faults are planted in raw SQL; on PostgreSQL the immutability and balance triggers are
disabled first, inside the test's transaction, which rolls them back with everything else.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing import audit
from billing.accounting import closings
from billing.accounting.models import Closing, JournalEntry
from tests.books import CLEANING, FINE, invoice_at
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLES = ("billing_journalentry", "billing_journalline", "billing_closing")


@contextmanager
def behind_the_guards() -> Iterator[object]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Pending deferred checks must run before ALTER TABLE may disable triggers.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield cursor


@pytest.fixture
def closed_books(db_clock):
    """Three days of sales in Paris, 1 to 3 June 2026, all closed."""
    user = UserFactory()
    invoices = [
        invoice_at(db_clock, datetime(2026, 6, day, 9, tzinfo=UTC), user.pk, lines=(CLEANING, FINE))
        for day in (1, 2, 3)
    ]
    db_clock.now = datetime(2026, 6, 4, 6, tzinfo=UTC)
    closings.close_due_periods(now=db_clock.now)
    assert audit.audit_accounts().clean
    return invoices


def credit_more(cursor, entry, role: str, amount: int) -> None:
    cursor.execute(
        "UPDATE billing_journalline SET credit = credit + %s WHERE entry_id = %s AND role = %s",
        [amount, entry.pk, role],
    )


def findings() -> set[tuple[str, str]]:
    return {(finding.check, finding.subject) for finding in audit.audit_accounts().findings}


def test_a_closing_whose_total_was_changed_is_named_with_its_broken_link(closed_books):
    with behind_the_guards() as cursor:
        cursor.execute(
            "UPDATE billing_closing SET total = total + 1 WHERE kind = 'DAY' AND start_date = %s",
            ["2026-06-02"],
        )

    report = audit.audit_accounts()

    assert {(f.check, f.subject) for f in report.findings} == {
        ("closing_chain_broken", "PAR DAY 2026-06-02"),
        ("closing_totals_differ", "PAR DAY 2026-06-02"),
    }
    (day_chain,) = [chain for chain in report.closings if chain.kind == "DAY"]
    assert (day_chain.hash_chain_ok, day_chain.first_broken_link) == (False, "PAR DAY 2026-06-02")
    out = io.StringIO()
    with pytest.raises(CommandError, match="accounts NOT CLEAN: closing_chain_broken x1") as raised:
        call_command("audit_sequences", stdout=out, no_color=True)
    assert raised.value.returncode == 1
    assert "- closing_totals_differ: PAR DAY 2026-06-02: total 61.0000 != 60.00" in out.getvalue()


def test_a_deleted_closing_breaks_the_chain_where_it_was(closed_books):
    with behind_the_guards() as cursor:
        cursor.execute(
            "DELETE FROM billing_closing WHERE kind = 'DAY' AND start_date = '2026-06-02'"
        )

    assert findings() == {
        ("closing_sequence_gap", "PAR DAY 2026-06-03"),
        ("closing_period_gap", "PAR DAY 2026-06-03"),
        ("closing_chain_broken", "PAR DAY 2026-06-03"),
        # The grand totals after the hole count documents no remaining closing shows.
        ("closing_perpetual_differs", "PAR DAY 2026-06-03"),
    }


def test_a_document_dated_inside_a_closed_period_after_its_closing_is_named(closed_books, db_clock):
    # What the database clock and the counters' barrier prevent: a document dated 2 June
    # committed after 2 June was closed.
    invoice_at(db_clock, datetime(2026, 6, 2, 20, tzinfo=UTC), UserFactory().pk)

    assert findings() == {
        ("journal_date_order", "VEPAR 2026 #4"),
        ("closing_totals_differ", "PAR DAY 2026-06-02"),
        ("closing_perpetual_differs", "PAR DAY 2026-06-02"),
        ("closing_perpetual_differs", "PAR DAY 2026-06-03"),
    }


def test_an_entry_whose_amounts_were_moved_is_named_against_its_document(closed_books):
    entry = closed_books[1].journal_entry
    with behind_the_guards() as cursor:
        # Balanced tampering: 1.00 moved from revenue to VAT; only the document can tell.
        credit_more(cursor, entry, "REVENUE", -1)
        credit_more(cursor, entry, "VAT", 1)

    report = audit.audit_accounts()

    assert [(f.check, f.subject) for f in report.findings] == [
        ("entry_differs_from_document", f"VEPAR 2026 #2 ({closed_books[1].number})")
    ]
    assert "REVENUE/0.2000: 0.0000-19.8300" in report.findings[0].detail


def test_an_unbalanced_entry_is_named_with_its_journal(closed_books):
    entry = closed_books[0].journal_entry
    with behind_the_guards() as cursor:
        credit_more(cursor, entry, "VAT", 5)

    assert {check for check, _ in findings()} == {
        "entry_unbalanced",
        "journal_unbalanced",
        "entry_differs_from_document",
    }
    assert ("entry_unbalanced", "VEPAR 2026 #1") in findings()


def test_a_deleted_entry_is_a_gap_in_its_journal_and_an_unposted_document(closed_books):
    entry = closed_books[1].journal_entry
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM billing_journalline WHERE entry_id = %s", [entry.pk])
        cursor.execute("DELETE FROM billing_journalentry WHERE id = %s", [entry.pk])

    assert ("journal_gap", "VEPAR 2026 #3") in findings()
    assert ("document_not_posted", closed_books[1].number) in findings()
    assert not JournalEntry.objects.filter(invoice=closed_books[1]).exists()
    assert Closing.objects.count() == 3  # the closings stay as they were
