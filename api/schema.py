"""The OpenAPI schema's shared parts: error shapes, documented instants, headers, names.

Views declare which refusals an operation can give with ``errors(401, 403, ...)`` beside their
success response, so that clients (and schemathesis) find every status they may receive. The
schema is written for generated clients: every shape a response can take is a named
component, and nothing in it needs a hand edit on the client's side.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiViewExtension
from drf_spectacular.plumbing import get_lib_doc_excludes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from api import fields


class ErrorSerializer(serializers.Serializer):
    """A refusal: ``detail`` for people, a stable ``code`` for programs, maybe named details."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="stable; programs branch on it, never on detail")


class FieldErrorsSerializer(serializers.Serializer):
    """DRF's field errors: ``{"field": ["message", ...]}``, nested as the request is."""


class BadRequestSerializer(serializers.Serializer):
    """Invalid input: field errors, or a domain error with its code."""


class FieldErrorsSchema(OpenApiSerializerExtension):
    """Describe field errors as an object of any field names (no fixed properties)."""

    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": (
                'One entry per refused field (or "non_field_errors"): a list of messages, or,'
                " for a nested field, the same shape again; and `code`: the refused field's"
                " own code when one field was refused for one reason, `invalid` otherwise"
                " (absent when the refused field is itself named `code`)."
            ),
            "additionalProperties": {},
        }


class BadRequestSchema(OpenApiSerializerExtension):
    """A 400 is either shape; clients try ``Error`` (code required) first, then field errors."""

    target_class = BadRequestSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        # anyOf, not oneOf: any JSON object is a valid field-errors object, an Error included.
        return {
            "anyOf": [
                auto_schema.resolve_serializer(ErrorSerializer, direction).ref,
                auto_schema.resolve_serializer(FieldErrorsSerializer, direction).ref,
            ],
            "description": BadRequestSerializer.__doc__,
        }


DESCRIPTIONS: dict[int, tuple[Any, str]] = {
    400: (
        BadRequestSerializer,
        'Invalid input: DRF\'s field errors ({"field": ["message"]}), or a domain error'
        " with a stable code (e.g. ends_before_start, nonexistent_local_time).",
    ),
    401: (ErrorSerializer, "No credentials, or invalid ones (code not_authenticated)."),
    403: (
        ErrorSerializer,
        "The user's role does not allow this operation (code permission_denied).",
    ),
    404: (ErrorSerializer, "No such object among those the user may see, or an invalid cursor."),
    409: (
        ErrorSerializer,
        "Conflict with the current state (e.g. vehicle_busy, rental_already_ended), or the"
        " first request with this Idempotency-Key still running"
        " (idempotency_request_in_progress).",
    ),
    422: (
        ErrorSerializer,
        "This Idempotency-Key came with a different request (idempotency_key_reused).",
    ),
    429: (ErrorSerializer, "Too many attempts; retry after the delay given (code throttled)."),
}

LOCAL_TWIN = "the same instant in the zone's local time, with its UTC offset"

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


def utc_instant(*, help_text: str = "UTC, with Z", **kwargs: Any) -> serializers.Field:
    """Return the documentation of an instant a serializer writes itself, in UTC with ``Z``.

    The serializers using it build their representation themselves: the field only tells
    the schema (and the clients generated from it) that the string is an RFC 3339 date-time.
    """
    return serializers.DateTimeField(help_text=help_text, **kwargs)


def local_instant(*, help_text: str = LOCAL_TWIN, **kwargs: Any) -> serializers.Field:
    """Return the documentation of a ``*_local`` twin: the same instant, local, with its offset."""
    return serializers.DateTimeField(help_text=help_text, **kwargs)


def doc_excludes() -> list[type]:
    """Return the classes whose docstrings no schema inherits (GET_LIB_DOC_EXCLUDES).

    drf-spectacular describes a serializer by the first docstring up its class hierarchy,
    stopping at the library's own classes. The edge's strict base classes are library code
    for our serializers: their docstrings explain the base, not the subclass.
    """
    return [*get_lib_doc_excludes(), fields.StrictSerializer, fields.StrictModelSerializer]


class ObtainTokenSchema(OpenApiViewExtension):
    """Document the token endpoint without touching its view: public, JSON, its refusals."""

    target_class = "api.auth.ObtainToken"
    priority = 1  # above drf-spectacular's own ObtainAuthToken extension

    def view_replacement(self) -> type:
        @extend_schema(
            description=(
                "Exchange a username and password for the user's token, sent afterwards as"
                " `Authorization: Token <token>`. Failed logins are throttled."
            ),
            auth=[],  # this is how a client gets credentials: it needs none
            responses={
                200: inline_serializer("Token", {"token": serializers.CharField()}),
                **errors(400, 401, 429),
            },
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

# Set by api/idempotency/keys.py on a replayed response only.
REPLAYED_HEADER_NAME = "Idempotent-Replayed"
REPLAYED_HEADER = {
    "description": (
        "true when this response is the stored answer to an earlier request with the same"
        " Idempotency-Key (the work was not done again); absent otherwise."
    ),
    "schema": {"type": "string", "enum": ["true"]},
}


def document_idempotency_key(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: every writing POST takes ``Idempotency-Key`` and may replay."""
    headers = result.setdefault("components", {}).setdefault("headers", {})
    headers[REPLAYED_HEADER_NAME] = REPLAYED_HEADER
    replayed = {"$ref": f"#/components/headers/{REPLAYED_HEADER_NAME}"}
    for route, path in result.get("paths", {}).items():
        operation = path.get("post")
        if operation is None or route.endswith("/auth/token/"):
            continue  # obtaining a token is naturally repeatable; it stores nothing
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == "Idempotency-Key" for p in parameters):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        for response in operation.get("responses", {}).values():
            response.setdefault("headers", {})[REPLAYED_HEADER_NAME] = replayed
    return result
