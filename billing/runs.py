"""Invoice runs: thousands of invoices at once, in short batches, each due item billed once.

A producer of due items (monthly pass periods today) says how to lock a batch of them and
how to bill it; the run does the rest:

- **One short transaction per batch**, never one per invoice (a month-end run would take
  hours) and never one for the whole run (the series counter would stay locked for its
  length). Inside it the producer locks up to ``batch_size`` due items it can take without
  waiting (``SELECT ... FOR UPDATE SKIP LOCKED``), inserts their subjects and issues their
  invoices with ``invoicing.issue_invoices``: one counter lock for the batch.
- **Exactly once, enforced by the database**: the producer's subject rows carry a unique
  constraint and each invoice's subject is unique. A run killed at any point loses only its
  open batch, which rolls back with its numbers, so no number is skipped; a run started
  again bills what is still due. Two runs at once lock disjoint batches, and before a run
  ends it waits for the batches others still hold (a blocking claim), so that whatever is
  due when it returns has been billed or has failed, not left behind.
- **Failures isolated**: an item whose charge cannot be built is set aside before anything
  is written. A batch that fails in the database is tried again in halves, down to the one
  item that fails, so a bad item never holds back the others; failures are reported with
  their reason. Losing the database (connection, server) stops the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.db import InterfaceError, OperationalError

from core import transactions
from core.errors import DomainError

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_FAILURES = 100


@dataclass(frozen=True, slots=True)
class Failure:
    """An item the run could not bill, and why."""

    item: int
    reason: str


class Item(Protocol):
    """A due item: what a producer bills, named by its id in summaries."""

    @property
    def id(self) -> int:
        """The item's id (a subscription's, for passes)."""


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one batch did: the items it locked, how many it billed, which it set aside."""

    claimed: tuple[int, ...]
    billed: int
    failures: tuple[Failure, ...] = ()


class Producer(Protocol):
    """Due items of one series, as an invoice run bills them."""

    def due_count(self) -> int:
        """Return how many items are due now (for progress; a run may find more)."""

    def already_billed_count(self) -> int:
        """Return how many items in the run's scope were billed before it started."""

    def claim(
        self, *, limit: int, only: Sequence[int] | None, exclude: Collection[int], wait: bool
    ) -> Sequence[Item]:
        """Lock up to ``limit`` due items, inside the run's transaction, and return them.

        ``only`` restricts the claim to those items, ``exclude`` leaves those out; without
        ``wait`` items other runs hold are skipped (``SKIP LOCKED``), with it they are
        waited for (and skipped if they are no longer due once released).
        """

    def bill(self, items: Sequence[Item]) -> tuple[int, tuple[Failure, ...]]:
        """Bill the claimed ``items`` in the same transaction; return the count billed and
        the items set aside before anything was written (their charge could not be built).
        """


@dataclass(slots=True)
class RunSummary:
    """What a run did: periods billed, skipped (billed before), failed with their reasons."""

    billed: int = 0
    skipped: int = 0
    due: int = 0
    failures: list[Failure] = field(default_factory=list)
    batches: int = 0
    aborted: str = ""

    @property
    def ok(self) -> bool:
        """Whether everything due was billed: nothing failed and the run was not stopped."""
        return not self.failures and not self.aborted


Progress = Callable[[RunSummary], None]


class _BatchFailed(Exception):
    """A batch's transaction failed: its items are retried in smaller batches."""

    def __init__(self, items: tuple[int, ...], reason: str) -> None:
        super().__init__(reason)
        self.items = items
        self.reason = reason


def run(
    producers: Iterable[Producer],
    *,
    batch_size: int = BATCH_SIZE,
    max_failures: int = MAX_FAILURES,
    on_progress: Progress | None = None,
) -> RunSummary:
    """Bill every due item of every producer, in batches; return what was done.

    The run stops early (``aborted``) once more than ``max_failures`` items failed: past
    that the cause is the system, not a member, and retrying item by item is only slow.

    Raises:
        OperationalError, InterfaceError: the database was lost; committed batches stay.
    """
    summary = RunSummary()
    producers = list(producers)
    for producer in producers:
        summary.skipped += producer.already_billed_count()
        summary.due += producer.due_count()
    for producer in producers:
        _run_one(producer, summary, batch_size, max_failures, on_progress)
        if summary.aborted:
            break
    return summary


def _run_one(
    producer: Producer,
    summary: RunSummary,
    batch_size: int,
    max_failures: int,
    on_progress: Progress | None,
) -> None:
    excluded: set[int] = set()
    wait = False
    while not summary.aborted:
        claimed = _bill_isolated(producer, summary, excluded, max_failures, batch_size, None, wait)
        if on_progress is not None:
            on_progress(summary)
        if claimed:
            wait = False
        elif wait:
            return  # nothing due, even after waiting for the batches other runs hold
        else:
            wait = True  # before returning, wait once for what other runs have locked


def _bill_isolated(
    producer: Producer,
    summary: RunSummary,
    excluded: set[int],
    max_failures: int,
    limit: int,
    only: Sequence[int] | None,
    wait: bool,
) -> int:
    """Bill one batch; if it fails, bill its halves, down to single failing items."""
    if summary.aborted:
        return 0
    try:
        outcome = _attempt(producer, limit=limit, only=only, exclude=excluded, wait=wait)
    except _BatchFailed as failed:
        if len(failed.items) <= 1:
            for item in failed.items:
                _fail(summary, excluded, max_failures, Failure(item=item, reason=failed.reason))
            return len(failed.items)
        logger.warning("batch of %s failed (%s): retrying in halves", len(failed.items), failed)
        middle = len(failed.items) // 2
        for half in (failed.items[:middle], failed.items[middle:]):
            _bill_isolated(producer, summary, excluded, max_failures, len(half), half, wait=False)
        return len(failed.items)
    if outcome.claimed:
        summary.batches += 1
    summary.billed += outcome.billed
    for failure in outcome.failures:
        _fail(summary, excluded, max_failures, failure)
    return len(outcome.claimed)


def _attempt(
    producer: Producer,
    *,
    limit: int,
    only: Sequence[int] | None,
    exclude: Collection[int],
    wait: bool,
) -> BatchOutcome:
    """Claim and bill one batch in its own transaction (retried whole on conflicts).

    Raises:
        _BatchFailed: billing failed; it names the items the batch had locked.
        OperationalError, InterfaceError: the database was lost.
        Exception: claiming itself failed (no item to blame: the run stops).
    """
    locked: list[int] = []

    def batch() -> BatchOutcome:
        locked.clear()
        items = producer.claim(limit=limit, only=only, exclude=exclude, wait=wait)
        locked.extend(item.id for item in items)
        if not items:
            return BatchOutcome(claimed=(), billed=0)
        billed, failures = producer.bill(items)
        return BatchOutcome(claimed=tuple(locked), billed=billed, failures=failures)

    try:
        return transactions.run_in_transaction(batch)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        if not locked:
            raise
        raise _BatchFailed(tuple(locked), _reason(exc)) from exc


def _fail(summary: RunSummary, excluded: set[int], max_failures: int, failure: Failure) -> None:
    excluded.add(failure.item)
    summary.failures.append(failure)
    logger.error("item %s not billed: %s", failure.item, failure.reason)
    if len(summary.failures) > max_failures and not summary.aborted:
        summary.aborted = f"more than {max_failures} failures: stopped"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return f"{exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
