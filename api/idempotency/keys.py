"""Replay the first response to a retried POST, across every app server.

Keys live in the database, scoped per user. The first request claims the key (a row
``IN_PROGRESS``), runs, and stores its rendered response; a replay with the same body
gets those bytes back, one that arrives meanwhile waits for them. A 5xx or a crash frees
the key, so the client can retry with it; a request whose owner died mid-way is taken
over once it is older than ``IDEMPOTENCY["TAKEOVER_SECONDS"]`` (above gunicorn's worker timeout, so
a live request is never run twice). Use cases are idempotent on their own where a takeover
could repeat committed work (an end at the same instant, a start at the same instant, a
credit note with the same request key).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.views import APIView

from api.idempotency.errors import (
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidIdempotencyKey,
)
from api.idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
POLL_SECONDS = 0.05

Handler = Callable[..., Any]


def idempotent(handler: Handler) -> Handler:
    """Make a DRF view's POST handler honour the ``Idempotency-Key`` header."""

    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not key.strip() or len(key) > 255:
            raise InvalidIdempotencyKey("Idempotency-Key must be 1 to 255 characters.")
        fingerprint = _fingerprint(request)
        claimed = _claim_or_wait(user=request.user, key=key, fingerprint=fingerprint)
        if isinstance(claimed, HttpResponse):
            return claimed
        try:
            response = _run(view, handler, request, *args, **kwargs)
        except BaseException:
            _on_a_live_connection(lambda: _release(claimed))
            raise
        if response.status_code >= 500:
            _on_a_live_connection(lambda: _release(claimed))
        else:
            _on_a_live_connection(lambda: _complete(claimed, response))
        return response

    return wrapper


def _run(view: APIView, handler: Handler, request: Request, *args: Any, **kwargs: Any) -> Any:
    """Run the handler and render its response to bytes, errors included, as DRF would."""
    try:
        response = handler(view, request, *args, **kwargs)
    except Exception as exc:
        response = view.handle_exception(exc)
    response = view.finalize_response(request, response, *args, **kwargs)
    response.render()
    rendered = HttpResponse(
        response.content, status=response.status_code, content_type=response["Content-Type"]
    )
    for name in ("Location",):
        if response.has_header(name):
            rendered[name] = response[name]
    return rendered


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    material = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(material).hexdigest()


def _claim_or_wait(*, user: Any, key: str, fingerprint: str) -> IdempotencyKey | HttpResponse:
    wait = settings.IDEMPOTENCY["WAIT_SECONDS"]
    takeover = settings.IDEMPOTENCY["TAKEOVER_SECONDS"]
    deadline = time.perf_counter() + wait
    while True:
        now = timezone.now()
        claim = uuid.uuid4().hex
        claimed = _insert_unless_present(
            IdempotencyKey(
                user=user,
                key=key,
                fingerprint=fingerprint,
                claim=claim,
                status=IdempotencyKey.Status.IN_PROGRESS,
                created_at=now,
            )
        )
        if claimed is not None:
            return claimed
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # freed by a failed first request between our two statements
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request.", key=key
            )
        if existing.status == IdempotencyKey.Status.COMPLETED:
            return _replay(existing)
        if existing.created_at < now - timedelta(seconds=takeover):
            taken = IdempotencyKey.objects.filter(
                pk=existing.pk, status=IdempotencyKey.Status.IN_PROGRESS, claim=existing.claim
            ).update(created_at=now, claim=claim)
            if taken:
                existing.created_at, existing.claim = now, claim
                return existing
        if time.perf_counter() >= deadline:
            raise IdempotencyRequestInProgress(
                "The first request with this Idempotency-Key is still running; retry later.",
                key=key,
            )
        time.sleep(POLL_SECONDS)


def _insert_unless_present(row: IdempotencyKey) -> IdempotencyKey | None:
    """Insert the claim and return it, or None when the key is already there: one statement.

    ``INSERT ... ON CONFLICT DO NOTHING`` raises no error (so no broken transaction) and
    ``RETURNING`` says whether the row is ours, where ``bulk_create(ignore_conflicts=True)``
    would need a second statement to find out. PostgreSQL and SQLite 3.35+ both speak it.
    """
    meta = IdempotencyKey._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    conflict = ", ".join(quote(meta.get_field(name).column) for name in ("user", "key"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
            f" ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote(meta.pk.column)}",
            [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    row.pk = inserted[0]
    row._state.adding, row._state.db = False, connection.alias
    return row


def _on_a_live_connection(write: Callable[[], object]) -> None:
    """Run a bookkeeping write; if the request's connection died, once more on a new one.

    The failure that made a request fail (a terminated backend, a dropped link) often took
    its connection with it; without a second try the key would stay IN_PROGRESS and every
    retry would wait for the takeover instead of running at once.
    """
    try:
        write()
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        connection.close()
        write()


def _release(claimed: IdempotencyKey) -> None:
    # Only our own claim: a request that was taken over must not free its new owner's key.
    IdempotencyKey.objects.filter(pk=claimed.pk, claim=claimed.claim).delete()


def _complete(claimed: IdempotencyKey, response: HttpResponse) -> None:
    IdempotencyKey.objects.filter(pk=claimed.pk, claim=claimed.claim).update(
        status=IdempotencyKey.Status.COMPLETED,
        response_status=response.status_code,
        response_content_type=response["Content-Type"],
        response_body=response.content,
        completed_at=timezone.now(),
    )


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(stored.response_body or b""),
        status=stored.response_status,
        content_type=stored.response_content_type,
    )
    response[REPLAYED_HEADER] = "true"
    return response


def purge_expired(*, now: Any) -> int:
    """Delete keys older than the retention period (never less than 24 hours); return how many."""
    hours = max(24, settings.IDEMPOTENCY["KEEP_HOURS"])
    cutoff = now - timedelta(hours=hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
