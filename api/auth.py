"""The token endpoint, throttled against password guessing."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import JSONParser
from rest_framework.throttling import ScopedRateThrottle


class ObtainToken(ObtainAuthToken):
    """``POST /api/auth/token/`` with ``username`` and ``password``: ``{"token": ...}``."""

    # JSON like every other endpoint (DRF's view also takes forms): one request body shape.
    parser_classes = [JSONParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
