"""One log line per request, with no credentials in it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("http")


class RequestLogMiddleware:
    """Log method, path, status, user id and duration; never headers, bodies or query strings.

    Query strings are left out because a token or a password must never reach the logs,
    and clients sometimes put them there.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else "-"
        logger.info(
            "%s %s %s user=%s %.1fms",
            request.method,
            request.path,
            response.status_code,
            user_id,
            elapsed_ms,
        )
        return response
