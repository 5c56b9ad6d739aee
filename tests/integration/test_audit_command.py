"""``manage.py audit_sequences``: the table, the JSON, and the exit code."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing import invoicing
from billing.management.commands.audit_sequences import HEADERS, listed
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = pytest.mark.django_db


def audit(*arguments):
    out = io.StringIO()
    call_command("audit_sequences", *arguments, stdout=out, no_color=True)
    return out.getvalue()


@pytest.fixture
def clean_books():
    user = UserFactory()
    invoices = [issue(user.pk), issue(user.pk), issue(user.pk, prefix="LYO")]
    invoicing.issue_credit_note(
        invoice_number=invoices[0].number,
        amount=Decimal("1.00"),
        reason="goodwill",
        issued_by_id=user.pk,
    )
    return invoices


def test_a_clean_database_exits_0_and_says_every_series_is_clean(clean_books):
    output = audit()

    series, accounts = output.strip().split("\n\n", 1)
    header, rule, *rows = series.splitlines()
    assert header.split("  ")[0] == HEADERS[0]
    assert set(rule) == {"-", " "}
    assert len(rows) == 3  # LYO, PAR, and the credit notes of PAR
    assert all(row.rstrip().endswith("CLEAN") and "NOT CLEAN" not in row for row in rows)
    title, _, _, *journals, summary, accounts_summary = accounts.splitlines()
    assert title == "Journals"
    assert [row.split()[:5] for row in journals] == [
        ["AVPAR", "2026", "1", "1", "1"],
        ["VELYO", "2026", "1", "1", "1"],
        ["VEPAR", "2026", "1", "2", "2"],
    ]
    assert all(row.endswith("  CLEAN") for row in journals)
    assert (summary, accounts_summary) == ("All 3 series clean.", "Journals and closings clean.")


def test_the_table_shows_first_last_count_and_the_hash_chain(clean_books):
    series = clean_books[0].series

    output = audit("--series", series)

    (row,) = [line for line in output.splitlines() if line.startswith(series)]
    assert row.split() == [series, "invoice", "1", "2", "2", "-", "-", "-", "ok", "-", "CLEAN"]


def test_no_documents_exits_0_and_says_there_is_nothing_to_audit():
    assert audit() == "No invoices or credit notes in any series: nothing to audit.\n"


def test_an_unknown_series_exits_2_and_names_it(clean_books):
    # A cron job with a typo in --series must alert, not report "clean" forever.
    with pytest.raises(CommandError, match="series 'NOPE-2026'") as refused:
        audit("--series", "NOPE-2026")

    assert refused.value.returncode == 2


def test_json_prints_the_report_of_the_api(clean_books):
    reports = json.loads(audit("--json"))

    assert [(r["series"], r["kind"], r["count"], r["clean"]) for r in reports] == [
        (clean_books[2].series, "invoice", 1, True),
        (clean_books[0].series, "invoice", 2, True),
        ("AV-" + clean_books[0].series, "credit_note", 1, True),
    ]
    assert reports[1]["gaps"] == [] and reports[1]["first_broken_link"] is None


def test_json_with_no_documents_is_an_empty_list():
    assert json.loads(audit("--json")) == []


@pytest.mark.parametrize(
    ("items", "count", "cell"),
    [
        ([], None, "-"),
        ([2], None, "1: 2"),
        ([2, 5, 9], 3, "3: 2, 5, 9"),
        (list(range(1, 8)), None, "7: 1, 2, 3, 4, 5, ..."),
        ([4], 1500, "1500: 4, ..."),
    ],
    ids=["none", "one", "three", "more-than-shown", "count-beyond-the-list"],
)
def test_a_list_cell_shows_the_count_and_the_first_items(items, count, cell):
    assert listed(items, count) == cell


def test_a_missing_first_invoice_exits_1_and_names_the_gap(clean_books):
    first = clean_books[0]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Rolled back with the test's transaction; tests/concurrency plants the rest.
            # The deferred foreign-key checks of the inserts must run before ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in (
                "billing_invoiceline", "billing_invoice", "billing_creditnote",
                "billing_journalline", "billing_journalentry",
            ):  # fmt: skip
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
        # The documents go with their journal entries, which refer to them.
        cursor.execute(
            "DELETE FROM billing_journalline WHERE entry_id IN (SELECT id FROM"
            " billing_journalentry WHERE credit_note_id IS NOT NULL OR invoice_id = %s)",
            [first.pk],
        )
        cursor.execute(
            "DELETE FROM billing_journalentry WHERE credit_note_id IS NOT NULL OR invoice_id = %s",
            [first.pk],
        )
        cursor.execute("DELETE FROM billing_creditnote")
        cursor.execute("DELETE FROM billing_invoiceline WHERE invoice_id = %s", [first.pk])
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [first.pk])
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 of 2 series NOT CLEAN: PAR-") as raised:
        call_command("audit_sequences", stdout=out, no_color=True)

    assert raised.value.returncode == 1
    (row,) = [line for line in out.getvalue().splitlines() if line.startswith(first.series)]
    assert "NOT CLEAN" in row and "1: 1" in row


def test_the_accounts_audit_alone_prints_its_report_and_exits_0_when_clean(clean_books):
    out = io.StringIO()
    call_command("audit_accounts", "--json", stdout=out)

    report = json.loads(out.getvalue())
    assert report["clean"] is True and report["finding_counts"] == {}
    assert [(j["journal_code"], j["count"], j["debit"]) for j in report["journals"]] == [
        ("AVPAR", 1, "1.00"),
        ("VELYO", 1, "8.00"),
        ("VEPAR", 2, "16.00"),
    ]


def test_the_accounts_audit_exits_1_naming_a_document_never_posted(clean_books):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in ("billing_journalline", "billing_journalentry"):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
        lyon = clean_books[2].journal_entry.pk
        cursor.execute("DELETE FROM billing_journalline WHERE entry_id = %s", [lyon])
        cursor.execute("DELETE FROM billing_journalentry WHERE id = %s", [lyon])
    out = io.StringIO()

    with pytest.raises(CommandError, match="accounts NOT CLEAN: document_not_posted x1") as raised:
        call_command("audit_accounts", stdout=out, no_color=True)

    assert raised.value.returncode == 1
    assert f"- document_not_posted: {clean_books[2].number}: the invoice has no journal entry" in (
        out.getvalue()
    )
