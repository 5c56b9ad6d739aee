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
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.core.management.base import BaseCommand
from django.db import connection

from billing.management.commands import audit_sequences
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
    with triggers_disabled("billing_invoice", "billing_invoiceline") as cursor:
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
