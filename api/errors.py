"""The one table from exception to HTTP status and body.

Domain errors carry a stable ``code``; their body is ``{"detail": ..., "code": ..., **details}``.
DRF's own errors keep DRF's shapes, with a ``code`` added: beside a lone ``detail``, and beside
field errors (``{"amount": ["..."], "code": "money_exponent"}``: the field's own code when one
field was refused for one reason, ``invalid`` otherwise), so that a program can branch on every
refusal without parsing messages. A request whose field named ``code`` was refused keeps DRF's
shape alone (the key is that field's). Anything else stays a 500: an unknown failure is never
dressed up as a refusal.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.idempotency.errors import IdempotencyKeyReused, IdempotencyRequestInProgress
from core.errors import ConflictError, DomainError, NotFoundError

# Most specific first: the first class in an exception's MRO found here decides.
STATUS_BY_ERROR: dict[type[DomainError], int] = {
    IdempotencyKeyReused: status.HTTP_422_UNPROCESSABLE_ENTITY,
    IdempotencyRequestInProgress: status.HTTP_409_CONFLICT,
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    DomainError: status.HTTP_400_BAD_REQUEST,
}


def status_for(error: DomainError) -> int:
    """Return the HTTP status for a domain error, by its nearest mapped class."""
    for klass in type(error).__mro__:
        if klass in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[klass]
    return status.HTTP_400_BAD_REQUEST


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain errors and DRF errors into responses; leave the rest to become 500s."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code, **_jsonable(exc.details)}
        return Response(body, status=status_for(exc))
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(response.data, dict):
        return response
    if set(response.data) == {"detail"}:
        detail = response.data["detail"]
        response.data["code"] = getattr(detail, "code", None) or getattr(
            exc, "default_code", "error"
        )
    elif isinstance(exc, ValidationError) and "code" not in response.data:
        response.data["code"] = _field_errors_code(exc.get_codes())
    return response


def _field_errors_code(codes: Any) -> str:
    """Return the one code of a validation error's fields, or ``invalid`` when there are more."""
    found: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)
        else:
            found.add(str(node))

    collect(codes)
    return found.pop() if len(found) == 1 else "invalid"


def _jsonable(details: dict[str, object]) -> dict[str, object]:
    return {
        key: value if isinstance(value, (str, int, list, type(None))) else str(value)
        for key, value in details.items()
    }
