"""Refusals of the idempotency layer."""

from core.errors import DomainError


class IdempotencyKeyReused(DomainError):
    """The same key came back with a different request (HTTP 422)."""

    code = "idempotency_key_reused"


class IdempotencyRequestInProgress(DomainError):
    """The first request with this key is still running after the wait (HTTP 409)."""

    code = "idempotency_request_in_progress"


class InvalidIdempotencyKey(DomainError):
    """The header is empty or too long (HTTP 400)."""

    code = "invalid_idempotency_key"
