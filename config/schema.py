"""Error responses in the OpenAPI schema: the shapes of config/api_errors.py, for every view.

Views declare which refusals an operation can give with ``errors(401, 403, ...)`` beside their
success response, so that clients (and schemathesis) find every status they may receive.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer


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

    target_class = "config.auth.ObtainToken"
    priority = 1  # above drf-spectacular's own ObtainAuthToken extension

    def view_replacement(self) -> type:
        @extend_schema(responses={200: AuthTokenSerializer, **errors(400, 401, 429)})
        class DocumentedObtainToken(self.target):  # type: ignore[name-defined, misc]
            pass

        return DocumentedObtainToken
