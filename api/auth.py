"""The token endpoint, throttled against password guessing."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


class ObtainToken(ObtainAuthToken):
    """``POST /api/auth/token/`` with ``username`` and ``password``: ``{"token": ...}``."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
