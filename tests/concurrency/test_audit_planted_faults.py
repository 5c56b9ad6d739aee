"""Faults planted behind the triggers' back are named by the API report and the command.

Each test issues PAR-…-000001 to 000003, then tampers with them in raw SQL with the
immutability triggers (and, for a duplicate, the unique constraint) out of the way, and
puts the guards back whatever happens: the next tests need them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.core.management.base import BaseCommand
from django.db import connection

from billing.accounting import closings
from billing.management.commands import audit_sequences
from tests.books import invoice_at
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@contextmanager
def triggers_disabled(*tables: str) -> Iterator[object]:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
        try:
            yield cursor
        finally:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_immutable")


@pytest.fixture
def invoices():
    user = UserFactory()
    return [issue(user.pk) for _ in range(3)]


@pytest.fixture
def auditor_report():
    def report():
        # A transactional test before this one may have flushed the migrations' groups.
        group, _ = Group.objects.get_or_create(name="auditor")
        auditor = UserFactory(is_staff=True)
        auditor.groups.add(group)
        response = client_for(auditor).get("/api/audit/sequences/")
        assert response.status_code == 200
        (series,) = response.json()
        return series

    return report


def command_says_not_clean() -> tuple[dict, str]:
    """Run the command twice (JSON, table); both must fail with exit code 1."""
    outputs = []
    for arguments in (["--json"], []):
        out = io.StringIO()
        with pytest.raises(CommandError, match="NOT CLEAN") as raised:
            call_command("audit_sequences", *arguments, stdout=out, no_color=True)
        assert raised.value.returncode == 1
        outputs.append(out.getvalue())
    (report,) = json.loads(outputs[0])
    return report, outputs[1]


def test_a_deleted_invoice_is_reported_as_a_gap(invoices, auditor_report):
    tables = (
        "billing_invoice",
        "billing_invoiceline",
        "billing_journalentry",
        "billing_journalline",
    )
    with triggers_disabled(*tables) as cursor:
        # Its journal entry goes with it: the entry refers to the invoice.
        cursor.execute(
            "DELETE FROM billing_journalline WHERE entry_id IN"
            " (SELECT id FROM billing_journalentry WHERE invoice_id = %s)",
            [invoices[1].pk],
        )
        cursor.execute("DELETE FROM billing_journalentry WHERE invoice_id = %s", [invoices[1].pk])
        cursor.execute("DELETE FROM billing_invoiceline WHERE invoice_id = %s", [invoices[1].pk])
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [invoices[1].pk])

    api = auditor_report()
    report, table = command_says_not_clean()

    for found in (api, report):
        assert (found["gaps"], found["gap_count"], found["count"]) == ([2], 1, 2)
        assert found["duplicates"] == [] and found["date_order_violations"] == []
        # The survivor after the hole points at a hash no longer in the series.
        assert found["first_broken_link"] == invoices[2].number
        assert found["clean"] is False
    assert "1: 2" in table and invoices[2].number in table and "NOT CLEAN" in table


def test_a_second_invoice_with_the_same_number_is_reported_as_a_duplicate(invoices, auditor_report):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE billing_invoice DROP CONSTRAINT invoice_unique_series_seq")
        try:
            cursor.execute(
                """
                INSERT INTO billing_invoice (
                    number, series, sequence, issued_at, time_zone, member_id, billing_name,
                    billing_address, seller_name, seller_address, seller_vat_id, subject_kind,
                    subject_id, period_started_at, period_ended_at, minutes, currency, net,
                    vat_rate, vat, total, canonical_version, previous_hash, hash)
                SELECT
                    number || '-BIS', series, sequence, issued_at, time_zone, member_id,
                    billing_name, billing_address, seller_name, seller_address, seller_vat_id,
                    subject_kind, subject_id + 1000000, period_started_at, period_ended_at,
                    minutes, currency, net, vat_rate, vat, total, canonical_version,
                    previous_hash, md5(hash) || md5(hash)
                FROM billing_invoice WHERE id = %s
                """,
                [invoices[1].pk],
            )

            api = auditor_report()
            report, table = command_says_not_clean()
        finally:
            with triggers_disabled("billing_invoice"):
                cursor.execute("DELETE FROM billing_invoice WHERE number LIKE %s", ["%-BIS"])
            cursor.execute(
                "ALTER TABLE billing_invoice ADD CONSTRAINT invoice_unique_series_seq"
                " UNIQUE (series, sequence)"
            )

    for found in (api, report):
        assert (found["duplicates"], found["gaps"], found["count"]) == ([2], [], 4)
        assert found["first"] == 1 and found["last"] == 3
        assert found["clean"] is False
    assert "NOT CLEAN" in table
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'invoice_unique_series_seq'")
        assert cursor.fetchone() == (1,), "the unique constraint was not put back"


def test_an_invoice_dated_before_the_previous_number_is_reported_as_out_of_date_order(
    invoices, auditor_report
):
    with triggers_disabled("billing_invoice") as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET issued_at = %s WHERE id = %s",
            [invoices[1].issued_at - timedelta(minutes=1), invoices[2].pk],
        )

    api = auditor_report()
    report, table = command_says_not_clean()

    for found in (api, report):
        assert found["date_order_violations"] == [invoices[2].number]
        assert found["gaps"] == [] and found["duplicates"] == []
        # The date is hashed content: the chain breaks at the same invoice.
        assert found["first_broken_link"] == invoices[2].number
    assert f"1: {invoices[2].number}" in table


def test_a_one_byte_edit_is_reported_as_the_first_broken_link(invoices, auditor_report):
    with triggers_disabled("billing_invoice") as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET billing_name = 'Alice Martio' WHERE id = %s",
            [invoices[1].pk],
        )

    api = auditor_report()
    report, table = command_says_not_clean()

    for found in (api, report):
        assert found["hash_chain_ok"] is False
        assert found["first_broken_link"] == invoices[1].number
        assert (found["gaps"], found["duplicates"], found["date_order_violations"]) == ([], [], [])
        assert found["count"] == 3
    assert "BROKEN" in table and invoices[1].number in table


def test_the_admin_audit_page_names_the_first_broken_link(invoices, client):
    with triggers_disabled("billing_invoice") as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET billing_name = 'Alice Martio' WHERE id = %s",
            [invoices[1].pk],
        )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/billing/invoice/audit/")

    assert response.status_code == 200
    assert "Some series are NOT CLEAN" in response.text
    assert f"<td>{invoices[1].number}</td>" in response.text


def test_the_real_exit_code_is_1_when_a_series_is_not_clean(invoices):
    with triggers_disabled("billing_invoice") as cursor:
        cursor.execute(
            "UPDATE billing_invoice SET total = total + 1 WHERE id = %s", [invoices[0].pk]
        )
    command: BaseCommand = audit_sequences.Command(stdout=io.StringIO(), stderr=io.StringIO())

    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "audit_sequences"])

    assert exited.value.code == 1


def test_the_real_exit_code_is_0_when_every_series_is_clean(invoices):
    command: BaseCommand = audit_sequences.Command(stdout=io.StringIO(), stderr=io.StringIO())

    command.run_from_argv(["manage.py", "audit_sequences"])  # no SystemExit


@pytest.fixture
def closed_days(db_clock):
    """Three Paris days of one invoice each, 1 to 3 June 2026, closed."""
    user = UserFactory()
    documents = [
        invoice_at(db_clock, datetime(2026, 6, day, 9, tzinfo=UTC), user.pk) for day in (1, 2, 3)
    ]
    db_clock.now = datetime(2026, 6, 4, 6, tzinfo=UTC)
    closings.close_due_periods(now=db_clock.now)
    return documents


def accounts_report() -> dict:
    group, _ = Group.objects.get_or_create(name="auditor")
    auditor = UserFactory(is_staff=True)
    auditor.groups.add(group)
    response = client_for(auditor).get("/api/audit/accounts/")
    assert response.status_code == 200
    return response.json()


def command_names(*findings: str) -> None:
    """The real exit code is 1, and the error names each finding."""
    command: BaseCommand = audit_sequences.Command(stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "audit_sequences"])
    assert exited.value.code == 1
    error = command.stderr._out.getvalue()
    assert all(finding in error for finding in findings), error


def test_a_tampered_closing_is_named_by_the_api_and_the_command(closed_days):
    with triggers_disabled("billing_closing") as cursor:
        cursor.execute(
            "UPDATE billing_closing SET invoice_count = 2 WHERE start_date = '2026-06-02'"
        )

    report = accounts_report()

    assert report["clean"] is False
    assert {(f["check"], f["subject"]) for f in report["findings"]} == {
        ("closing_chain_broken", "PAR DAY 2026-06-02"),
        ("closing_totals_differ", "PAR DAY 2026-06-02"),
    }
    (days,) = [chain for chain in report["closings"] if chain["kind"] == "DAY"]
    assert (days["count"], days["first_broken_link"], days["clean"]) == (
        3,
        "PAR DAY 2026-06-02",
        False,
    )
    command_names("closing_chain_broken x1", "closing_totals_differ x1")


def test_a_tampered_entry_is_named_by_the_api_and_the_command(closed_days):
    entry = closed_days[2].journal_entry
    with triggers_disabled("billing_journalline") as cursor:
        cursor.execute(
            "UPDATE billing_journalline SET account = '758', credit = credit + 1"
            " WHERE entry_id = %s AND role = 'REVENUE'",
            [entry.pk],
        )

    report = accounts_report()

    assert {(f["check"], f["subject"]) for f in report["findings"]} == {
        ("entry_unbalanced", "VEPAR 2026 #3"),
        ("journal_unbalanced", "VEPAR 2026"),
        ("entry_differs_from_document", f"VEPAR 2026 #3 ({closed_days[2].number})"),
    }
    command_names("entry_unbalanced x1", "entry_differs_from_document x1")
