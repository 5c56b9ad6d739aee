"""Error responses in the OpenAPI schema: the shapes of api/errors.py, for every view.

Views declare which refusals an operation can give with ``errors(401, 403, ...)`` beside their
success response, so that clients (and schemathesis) find every status they may receive.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """A refusal: ``detail`` for people, a stable ``code`` for programs, maybe named details."""

    detail = serializers.CharField()
    code = serializers.CharField()


_ERROR = ErrorSerializer
_INVALID = OpenApiTypes.OBJECT  # DRF's field errors {"field": ["message"]}, or an Error

DESCRIPTIONS: dict[int, tuple[Any, str]] = {
    400: (
        _INVALID,
        'Invalid input: DRF\'s field errors ({"field": ["message"]}), or a domain error'
        " with a stable code (e.g. ends_before_start, nonexistent_local_time).",
    ),
    401: (_ERROR, "No credentials, or invalid ones (code not_authenticated)."),
    403: (_ERROR, "The user's role does not allow this operation (code permission_denied)."),
    404: (_ERROR, "No such object among those the user may see, or an invalid cursor."),
    409: (
        _ERROR,
        "Conflict with the current state (e.g. vehicle_busy, rental_already_ended), or the"
        " first request with this Idempotency-Key still running"
        " (idempotency_request_in_progress).",
    ),
    422: (_ERROR, "This Idempotency-Key came with a different request (idempotency_key_reused)."),
    429: (_ERROR, "Too many attempts; retry after the delay given (code throttled)."),
}

# The refusals of each kind of operation, to be completed with the operation's own.
READ = (401, 403, 404)
LIST = (400, 401, 403, 404)
WRITE = (400, 401, 403, 409, 422)


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Return the documented error responses for ``statuses``, to merge into ``responses``."""
    responses = {}
    for status in sorted(set(statuses)):
        shape, description = DESCRIPTIONS[status]
        responses[status] = OpenApiResponse(response=shape, description=description)
    return responses


class ObtainTokenSchema(OpenApiViewExtension):
    """Document the token endpoint's refusals without touching config/auth.py."""

    target_class = "api.auth.ObtainToken"
    priority = 1  # above drf-spectacular's own ObtainAuthToken extension

    def view_replacement(self) -> type:
        @extend_schema(
            responses={
                200: inline_serializer("Token", {"token": serializers.CharField()}),
                **errors(400, 401, 429),
            }
        )
        class DocumentedObtainToken(self.target):  # type: ignore[name-defined, misc]
            pass

        return DocumentedObtainToken


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Replaying the same key with the same body returns the first response (same status"
        " and body); with another body, 422 idempotency_key_reused. Scoped per user, kept"
        " at least 24 hours, 1 to 255 characters."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def document_idempotency_key(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every writing POST accepts the ``Idempotency-Key`` header."""
    for route, path in result.get("paths", {}).items():
        operation = path.get("post")
        if operation is None or route.endswith("/auth/token/"):
            continue  # obtaining a token is naturally repeatable; it stores nothing
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == "Idempotency-Key" for p in parameters):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    return result
