"""What every request under /api/ gets before the views, and every error it gets after them.

Before the views: a body over the limit is refused (413) unread, whether it announces its
length or comes chunked; NUL characters, which PostgreSQL cannot store, never reach a query
(404 in a path, 400 elsewhere); a path missing only its trailing slash is served as if it
had it, because a redirect cannot carry a POST. After them: an error no DRF view rendered
(Django's 404, 405, 500 pages, DEBUG's technical pages among them) is answered in JSON with
a stable ``code``. Unknown exceptions stay 500s, still logged by Django.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import get_urlconf, is_valid_path

PREFIX = "/api/"
CODES_BY_STATUS = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "request_too_large",
    500: "server_error",
}


def code_for(status: int) -> str:
    """Return the ``code`` an error status carries when nothing more specific is known."""
    if status in CODES_BY_STATUS:
        return CODES_BY_STATUS[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def refusal(status: int, detail: str, code: str | None = None, **details: object) -> JsonResponse:
    """Return an error response of the API's shape: ``{"detail", "code", **details}``."""
    response = JsonResponse(
        {"detail": detail, "code": code or code_for(status), **details}, status=status
    )
    # Answered outside CommonMiddleware, which would have set it.
    response["Content-Length"] = str(len(response.content))
    return response


class ApiEdgeMiddleware:
    """Guard the API's requests before the views, and answer its errors in JSON after them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        try:
            refused = _refuse_nul(request) or _limit_body(request)
        except SuspiciousOperation as exc:  # e.g. more query fields than Django reads
            refused = refusal(400, str(exc) or "Bad request.")
        response = refused or self.get_response(_with_trailing_slash(request))
        return _as_json(response)


def _refuse_nul(request: HttpRequest) -> HttpResponse | None:
    if "\x00" in request.path_info:
        return refusal(404, "Not found.")
    query = request.GET
    if any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists()):
        return refusal(400, "The query string contains a NUL character.", "nul_character")
    headers = (v for k, v in request.META.items() if k.startswith("HTTP_") and isinstance(v, str))
    if any("\x00" in value for value in headers):
        return refusal(400, "A header contains a NUL character.", "nul_character")
    return None


def _limit_body(request: HttpRequest) -> HttpResponse | None:
    """Refuse a body over the limit unread; read a chunked one here, up to the limit.

    Django trusts Content-Length alone: a chunked body (no length) would be read as empty,
    and a request meant to end a rental at 10:20 would end it now.
    """
    limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    meta = request.META
    announced = meta.get("CONTENT_LENGTH") or ""
    if announced:
        if not (announced.isascii() and announced.isdigit()):
            return refusal(400, "Content-Length is not a number of bytes.")
        if int(announced) > limit:
            return _too_large(limit)
    elif "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        if not request.environ.get("wsgi.input_terminated"):
            return refusal(411, "Send the body with a Content-Length.")
        body = _read_at_most(request.environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            return _too_large(limit)
        meta["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[attr-defined]
    return None


def _too_large(limit: int) -> JsonResponse:
    return refusal(
        413, f"The request body is larger than {limit} bytes.", "request_too_large", limit=limit
    )


def _read_at_most(stream: io.RawIOBase, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _with_trailing_slash(request: HttpRequest) -> HttpRequest:
    # A path that resolves only with its slash is served as that path: same view, same
    # Idempotency-Key fingerprint (it reads request.path), never a 301 a POST cannot follow.
    if not request.path_info.endswith("/"):
        urlconf = getattr(request, "urlconf", None) or get_urlconf()
        slashed = request.path_info + "/"
        if not is_valid_path(request.path_info, urlconf) and is_valid_path(slashed, urlconf):
            request.path_info = slashed
            request.path = request.path + "/"
    return request


def _as_json(response: HttpResponse) -> HttpResponse:
    """Answer an error that Django rendered as a page in JSON, keeping its status."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    status = response.status_code
    detail = response.reason_phrase if status != 500 else "Server error."
    replaced = refusal(status, f"{detail.rstrip('.')}.")
    for header in ("Allow", "Retry-After"):
        if response.has_header(header):
            replaced[header] = response[header]
    return replaced
