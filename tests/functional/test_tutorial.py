"""The tutorial and the how-tos that continue it answer exactly as they are written.

Their curl commands run in order against the demo data (``loaddata demo``, as ``make run``
loads it), with the clock pinned where each document says (``<!-- now: ... -->``), and
every documented answer must match (tests/doc_examples.py says how "…" is read). A change
of behaviour that the documents do not follow fails here, naming the line and showing the
actual answer.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from core import clock, roles
from tests import doc_examples

# In this order: the how-tos start from the tutorial's invoice.
DOCUMENTS = (
    "tutorial.md",
    "howto/issue-a-credit-note.md",
    "howto/export-a-month.md",
    "howto/run-the-audit.md",
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
            problems += doc_examples.run_document(document, client, traveller.move_to)

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
