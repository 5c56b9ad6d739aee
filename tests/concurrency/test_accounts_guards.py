"""PostgreSQL guards the accounts as it guards documents: no edit, no unbalanced entry."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from billing import audit, numbering
from billing.accounting import closings, journal
from billing.accounting.models import Closing, JournalEntry, JournalLine
from tests.books import invoice_at
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def entry(db_clock):
    invoice = invoice_at(db_clock, datetime(2026, 6, 1, 9, tzinfo=UTC), UserFactory().pk)
    return invoice.journal_entry


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE billing_journalentry SET amount = 0 WHERE id = %(entry)s",
        "DELETE FROM billing_journalentry WHERE id = %(entry)s",
        "UPDATE billing_journalline SET account = '758' WHERE entry_id = %(entry)s",
        "DELETE FROM billing_journalline WHERE entry_id = %(entry)s",
        "UPDATE billing_closing SET total = 0",
        "DELETE FROM billing_closing",
    ],
    ids=["update-entry", "delete-entry", "update-line", "delete-line", "update-closing",
         "delete-closing"],
)  # fmt: skip
def test_raw_sql_cannot_update_or_delete_an_entry_its_lines_or_a_closing(
    entry, db_clock, statement
):
    db_clock.now = datetime(2026, 6, 3, tzinfo=UTC)
    assert closings.close_due_periods(now=db_clock.now)

    with pytest.raises(DatabaseError, match="the accounts are immutable"), connection.cursor() as c:
        c.execute(statement, {"entry": entry.pk})

    assert JournalLine.objects.filter(entry=entry).count() == 3
    assert Closing.objects.get(start_date="2026-06-01").total == Decimal("8.00")


def test_a_line_added_to_a_posted_entry_is_refused_at_commit(entry):
    refused = pytest.raises(IntegrityError, match="does not balance")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        # Even a line of nothing: the entry no longer has the lines it was posted with.
        cursor.execute(
            "INSERT INTO billing_journalline (entry_id, position, role, account,"
            " account_label, auxiliary_account, auxiliary_label, label, debit, credit,"
            " vat_rate, vat_exemption) VALUES (%s, 9, 'REVENUE', '706', 'x', '', '', 'x',"
            " 0, 0, NULL, '')",
            [entry.pk],
        )

    assert JournalLine.objects.filter(entry=entry).count() == 3


def _issue(db_clock):
    return invoice_at(db_clock, datetime(2026, 6, 1, 10, tzinfo=UTC), UserFactory().pk)


def test_an_issue_whose_entry_does_not_balance_is_refused_whole_at_commit(db_clock, monkeypatch):
    real_store = journal._store

    def store_one_cent_more(entry, lines, *, counter):
        first = dataclasses.replace(lines[0], debit=lines[0].debit + Decimal("0.01"))
        real_store(entry, [first, *lines[1:]], counter=counter)

    monkeypatch.setattr(journal, "_store", store_one_cent_more)
    with pytest.raises(IntegrityError, match="does not balance"):
        _issue(db_clock)
    monkeypatch.undo()

    # Nothing of it remains: the next invoice and its entry are both number 1.
    invoice = _issue(db_clock)
    assert (invoice.sequence, invoice.journal_entry.number) == (1, 1)
    assert audit.audit_accounts().clean


def test_an_entry_stored_without_its_lines_is_refused_at_commit(db_clock, monkeypatch):
    def store_no_line(entry, lines, *, counter):
        entry.number = numbering.take_number(counter)
        entry.save()

    monkeypatch.setattr(journal, "_store", store_no_line)

    with pytest.raises(IntegrityError, match="0 of 3 lines"):
        _issue(db_clock)

    assert not JournalEntry.objects.exists()
