"""The one way a use case begins its transaction: durable, retried whole on conflict.

A serialization failure or a deadlock aborts the whole transaction; retrying a part of it
inside the same transaction is impossible, so the whole use case runs again, a bounded
number of times, with jittered back-off. Lower layers join the use case's transaction and
never begin one (``ATOMIC_REQUESTS`` stays off).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

# SQLSTATEs after which running the whole transaction again is safe and useful.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
MAX_ATTEMPTS = 5


class RetryTransaction(Exception):
    """Raised inside a use case to ask for the whole transaction to run again."""


def run_in_transaction(work: Callable[[], T], *, attempts: int = MAX_ATTEMPTS) -> T:
    """Run ``work`` in a new durable transaction, retrying it whole on conflicts.

    Raises:
        RuntimeError: when called inside another transaction (use cases never nest).
        OperationalError: the last conflict, when every attempt failed.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(durable=True):
                return work()
        except (OperationalError, RetryTransaction) as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            delay = random.uniform(0, 0.01 * 2**attempt)  # noqa: S311 - jitter, not crypto
            logger.warning("retrying transaction (attempt %s): %s", attempt, exc)
            time.sleep(delay)
    raise AssertionError("unreachable")


def use_case(function: Callable[P, T]) -> Callable[P, T]:
    """Make ``function`` a use case: its whole body is one durable transaction, retried whole.

    The body reads top to bottom as the story of the use case; what must not hold the
    transaction open (slow work, side effects) is registered with ``on_commit``.
    """

    @functools.wraps(function)
    def in_transaction(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_in_transaction(lambda: function(*args, **kwargs))

    return in_transaction


def require_transaction(what: str) -> None:
    """Refuse to run outside the use case's transaction.

    Raises:
        RuntimeError: no transaction is open (the work would commit piecemeal).
    """
    if not connection.in_atomic_block:
        raise RuntimeError(f"{what} joins the use case's transaction; none is open")


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, RetryTransaction):
        return True
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES
