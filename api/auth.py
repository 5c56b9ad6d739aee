"""The token endpoint: JSON only, failed attempts throttled (api.login_failures)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from api import login_failures
from api.parsers import StrictJSONParser

BAD_CREDENTIALS = "Unable to log in with provided credentials."


class _Credentials(AuthTokenSerializer):
    """The fields of DRF's login serializer, checked before any password is tried."""

    username = serializers.CharField(max_length=login_failures.USERNAME_MAX_LENGTH)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs  # authentication happens in the view, after the lock-out check


def client_address(request: Request) -> str:
    """Return the client's address as the throttles identify it (``NUM_PROXIES``)."""
    return BaseThrottle().get_ident(request) or "unknown"


class ObtainToken(ObtainAuthToken):
    """``POST /api/auth/token/`` with ``username`` and ``password``: ``{"token": ...}``."""

    parser_classes = (StrictJSONParser,)
    throttle_classes = ()

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Return the user's token.

        Raises:
            ValidationError: missing fields, or wrong credentials (counted as a failure).
            LoginThrottled: too many recent failures for the username or the address.
        """
        now = timezone.now()
        credentials = _Credentials(data=request.data)
        credentials.is_valid(raise_exception=True)
        username = credentials.validated_data["username"]
        address = client_address(request)
        login_failures.refuse_if_locked(username=username, address=address, now=now)
        user = authenticate(
            request=request,
            username=username,
            password=credentials.validated_data["password"],
        )
        if user is None:
            login_failures.record_failure(username=username, address=address, at=now)
            raise ValidationError(
                {"non_field_errors": [ErrorDetail(BAD_CREDENTIALS, code="authorization")]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
