"""The tutorial and the how-tos that continue it answer exactly as they are written.

Their curl and ``manage.py`` commands run in order against the demo data (``loaddata
demo``, as ``make run`` loads it), with the clock pinned where each document says
(``<!-- now: ... -->``), and every documented answer must match (tests/doc_examples.py says
how "…" is read). A change of behaviour that the documents do not follow fails here, naming
the line and showing the actual answer. The docs' Python examples that check themselves run
too, and so does the audit how-to's standard-library script, on PostgreSQL's own rows.
"""

from __future__ import annotations

import contextlib
import io
import sys
from datetime import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client

from billing import charges, invoicing, numbering
from billing.models import Invoice
from core import clock, roles
from core.transactions import run_in_transaction
from tests import doc_examples, documents
from tests.integration.test_canonical_versions import (  # noqa: F401 (fixtures)
    issued_in_december_2026,
    v1_documents,
)
from tests.invoices import PARIS_STANDARD, charge

# In this order: the how-tos start from the tutorial's invoice.
DOCUMENTS = (
    "tutorial.md",
    "howto/issue-a-credit-note.md",
    "howto/export-a-month.md",
    "howto/run-the-audit.md",
    "howto/publish-a-tariff.md",
)
# Before the first "now" of the tutorial; quotes do not depend on it.
START = "2026-11-28T12:00:00+00:00"


@pytest.fixture
def demo_data() -> None:
    # A transactional test before this one may have flushed the groups the fixture names.
    for role in roles.STAFF_ROLES:
        Group.objects.get_or_create(name=role)
    call_command("loaddata", "demo", verbosity=0)
    cache.clear()  # the token endpoint's throttle counts in the cache


def test_every_document_names_the_instants_its_requests_run_at():
    for document in DOCUMENTS:
        requests = list(doc_examples.steps(doc_examples.DOCS / document))
        assert requests, f"{document} has no curl example"
        assert all(step.now is not None for step in requests), document


def test_the_documents_parse_their_ellipses_as_left_out_keys_items_and_middles():
    documented = doc_examples.relaxed_json('{"a": [1, …], "hash": "48…d4", …}')

    assert doc_examples.mismatches(documented, {"a": [1, 2], "hash": "48cafed4", "b": 0}) == []
    assert doc_examples.mismatches(documented, {"a": [2], "hash": "48cafed4"}) == [
        "$.a[0]: documented 1, got 2"
    ]
    assert doc_examples.mismatches({"a": "1.00"}, {"a": "1.00", "b": None}) == [
        "$.b: present but not documented"
    ]
    assert doc_examples.text_mismatches("a,48…d4\n…\nz", "a,48cafed4\r\nb\r\nc\r\nz") == []
    assert doc_examples.text_mismatches("a,48…d4", "a,49cafed4") != []


# Sequences reset: the documents show the demo's first rental, invoice and credit note.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_tutorial_and_its_how_tos_answer_as_documented(demo_data, monkeypatch, tmp_path):
    # Issue dates come from the database clock, which time-machine cannot pin on PostgreSQL.
    monkeypatch.setattr(clock, "read_database_clock", clock.now)
    monkeypatch.chdir(tmp_path)  # where the documents' commands write their files
    client = Client()
    problems: list[str] = []
    with time_machine.travel(datetime.fromisoformat(START), tick=False) as traveller:
        for document in DOCUMENTS:
            # The worker of `make run` renders each document a moment after its issue.
            problems += doc_examples.run_document(
                document, client, traveller.move_to, between=documents.run_jobs
            )

    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _python_examples() -> list[tuple[str, int, str]]:
    """The self-checking Python examples of the docs: every ``python`` block with an assert."""
    found = []
    for path in sorted(doc_examples.DOCS.rglob("*.md")):
        for block in doc_examples.blocks(path.read_text(encoding="utf-8")):
            if block.language == "python" and "assert " in block.text:
                found.append((str(path.relative_to(doc_examples.DOCS)), block.line, block.text))
    return found


@pytest.mark.parametrize(
    ("document", "line", "code"),
    _python_examples(),
    ids=[f"{document}:{line}" for document, line, _ in _python_examples()],
)
def test_the_python_examples_of_the_docs_hold(document, line, code):
    compiled = compile(code, f"docs/{document}:{line}", "exec")

    exec(compiled, {"__name__": "doc_example"})  # raises if an assert fails


def _audit_how_to_blocks() -> tuple[str, str, str]:
    """The audit how-to's two queries and its standard-library script, as written there."""
    found = list(doc_examples.blocks((doc_examples.DOCS / "howto/run-the-audit.md").read_text()))
    queries = [block.text for block in found if block.language == "sql"]
    (script,) = [b.text for b in found if b.language == "python" and "verify_chain" in b.prose]
    invoices, credit_notes = queries
    return invoices, credit_notes, script


def _psql_lines(query: str, series: str) -> list[str]:
    """What ``psql -At -f query.sql`` prints: one JSON document a line."""
    select = query.strip().rstrip(";").replace("'PAR-2026'", "%s").replace("'AV-PAR-2026'", "%s")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT document::text FROM ({select}) AS rows (document)", [series])
        return [text for (text,) in cursor.fetchall()]


def _verify(script: str, lines: list[str]) -> list[str]:
    """Run the script as ``python3 verify_chain.py`` with ``lines`` on its standard input."""
    out = io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("".join(f"{line}\n" for line in lines))
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(script, "verify_chain.py", "exec"), {"__name__": "__main__"})
    finally:
        sys.stdin = stdin
    return out.getvalue().splitlines()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("v1_documents", "issued_in_december_2026")
def test_the_audit_how_to_script_verifies_both_canonical_versions_from_psql_rows():
    member_id = Invoice.objects.get(number="PAR-2026-000001").member_id
    # A version-2 invoice after the version-1 one: minute lines with details, and a line
    # outside the scope of VAT; then a version-2 credit note after the version-1 one.
    minutes = charge(minutes=70)
    fine = charges.ChargeLine(
        kind="FEE", description="Fine passed through", quantity=Decimal(1), unit="unit",
        unit_price=Decimal("35.00"), amount=Decimal("35.00"), vat_rate=None,
        vat_exemption="Débours",
    )  # fmt: skip
    mixed = charges.Charge(
        currency="EUR",
        time_zone=PARIS_STANDARD.time_zone,
        started_at=minutes.started_at,
        ended_at=minutes.ended_at,
        lines=(*minutes.lines, fine),
    )
    invoice = run_in_transaction(
        lambda: invoicing.issue_invoice(
            member=invoicing.BillingIdentity(
                member_id=member_id, billing_name="Zoë", billing_address="Paris"
            ),
            charge=mixed,
            series=numbering.SeriesRule(prefix="PAR"),
            subject_kind="test",
            subject_id=1,
        )
    )
    invoicing.issue_credit_note(
        invoice_number=invoice.number,
        amount=Decimal("10.00"),
        reason="Goodwill",
        issued_by_id=member_id,
    )
    invoices_sql, credit_notes_sql, script = _audit_how_to_blocks()
    invoice_rows = _psql_lines(invoices_sql, "PAR-2026")
    note_rows = _psql_lines(credit_notes_sql, "AV-PAR-2026")

    assert _verify(script, invoice_rows) == ["PAR-2026-000001 ok", "PAR-2026-000002 ok"]
    assert _verify(script, note_rows) == ["AV-PAR-2026-000001 ok", "AV-PAR-2026-000002 ok"]
    # One changed byte in the version-2 invoice breaks it, and the chain after it holds.
    tampered = [invoice_rows[0], invoice_rows[1].replace('"Zoë"', '"Zoé"')]
    assert _verify(script, tampered) == ["PAR-2026-000001 ok", "PAR-2026-000002 BROKEN"]
