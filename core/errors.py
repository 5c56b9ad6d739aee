"""Domain errors: each has a stable ``code`` that clients can rely on.

Pure Python (no Django): the pricing core raises these too. ``api/errors.py`` is the one
table that turns them into HTTP responses; nothing below the edge knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business-rule refusal; its ``code`` is part of the API contract."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class ConflictError(DomainError):
    """The request is valid but clashes with the current state (HTTP 409)."""


class NotFoundError(DomainError):
    """The object does not exist or is not the caller's (HTTP 404)."""
