"""Invoices, credit notes and closings at once, on PostgreSQL: no deadlock, no gap, balanced."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from billing import audit, invoicing
from billing.accounting import closings
from billing.accounting.models import JournalEntry
from tests.concurrency.conftest import run_in_threads
from tests.factories import UserFactory
from tests.invoices import issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ISSUERS, CREDITORS, INVOICES_EACH, CREDITS_EACH = 5, 2, 12, 8


def test_issues_credits_and_closing_barriers_at_once_leave_every_journal_gapless_and_balanced():
    user = UserFactory()
    credited = [issue(user.pk, prefix=prefix) for prefix in ("PAR", "LYO")]
    scopes = closings.scopes()
    done = threading.Event()
    remaining = [ISSUERS + CREDITORS]
    lock = threading.Lock()
    barriers: list[object] = []

    def work(index: int) -> int:
        if index == ISSUERS + CREDITORS:
            # The closer: waits for the issues in flight of each zone, again and again.
            while not done.is_set():
                barriers.extend(closings.wait_for_issues_in_flight(scope) for scope in scopes)
            return len(barriers)
        try:
            if index < ISSUERS:
                for n in range(INVOICES_EACH):
                    issue(user.pk, subject_id=(index + 1) * 1000 + n, prefix=("PAR", "LYO")[n % 2])
                return INVOICES_EACH
            for _ in range(CREDITS_EACH):
                invoicing.issue_credit_note(
                    invoice_number=credited[index % 2].number,
                    amount=Decimal("0.25"),
                    reason="goodwill",
                    issued_by_id=user.pk,
                )
            return CREDITS_EACH
        finally:
            with lock:
                remaining[0] -= 1
                if not remaining[0]:
                    done.set()

    results = run_in_threads(ISSUERS + CREDITORS + 1, work)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert barriers and all(instant is not None for instant in barriers)
    entries = JournalEntry.objects.values_list("journal_code", "number")
    numbers: dict[str, list[int]] = {}
    for code, number in entries.order_by("journal_code", "number"):
        numbers.setdefault(code, []).append(number)
    assert {code: len(seen) for code, seen in numbers.items()} == {
        "VEPAR": 1 + ISSUERS * INVOICES_EACH // 2,
        "VELYO": 1 + ISSUERS * INVOICES_EACH // 2,
        "AVPAR": CREDITS_EACH,
        "AVLYO": CREDITS_EACH,
    }
    assert all(seen == list(range(1, len(seen) + 1)) for seen in numbers.values()), numbers
    report = audit.audit_accounts()
    assert report.clean, report.findings[:5]
    assert all(series.clean for series in audit.audit_sequences())
