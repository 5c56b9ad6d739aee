"""Request bodies: a documented size limit, checked before parsing, chunked bodies included.

Before: a 10 MB body got Django's ``400 text/html``; a chunked body (no Content-Length) was
read by Django as empty, so ``POST /api/rentals/{id}/end/`` with a chunked ``ended_at`` would
have ended the rental now. Now: 413 JSON ``request_too_large`` naming the limit, and chunked
bodies read like any other (through gunicorn, which de-chunks them).
"""

from __future__ import annotations

import io
import json
import socket

import pytest
from django.conf import settings

from tests.conftest import client_for
from tests.factories import MemberFactory
from tests.faults.servers import Gunicorn

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def member_api():
    client = client_for(MemberFactory().user)
    client.raise_request_exception = False
    return client


def chunked(client, path: str, body: bytes, *, terminated: bool = True):
    """POST ``body`` as a server that de-chunks it presents it: no CONTENT_LENGTH."""
    return client.generic(
        "POST",
        path,
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": terminated},
    )


def test_the_default_limit_is_one_mebibyte():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024


def test_a_10_mb_body_is_refused_with_413_json_naming_the_limit(debug):
    body = b'{"vehicle": "' + b"A" * (10 * 1024 * 1024) + b'"}'

    response = member_api().post("/api/quotes/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        "code": "request_too_large",
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    }


def test_the_limit_is_checked_before_authentication(debug):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client_for(None).post("/api/quotes/", body, content_type="application/json")

    assert response.status_code == 413


def test_a_body_at_the_limit_reaches_the_parser(debug, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b"[" * 1000

    response = member_api().post("/api/quotes/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_a_chunked_body_over_the_limit_is_refused(debug):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = chunked(member_api(), "/api/quotes/", body)

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_chunked_body_under_the_limit_is_read_not_taken_for_empty(debug):
    response = chunked(member_api(), "/api/quotes/", b'{"vehicle": "NO-SUCH-CAR"}')

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_vehicle"


def test_a_chunked_body_a_server_did_not_de_chunk_needs_a_length(debug):
    response = chunked(member_api(), "/api/quotes/", b'{"vehicle": "X"}', terminated=False)

    assert response.status_code == 411
    assert response.json()["code"] == "length_required"


def test_a_body_without_a_content_type_is_refused_rather_than_ignored(debug):
    client = member_api()

    response = client.generic("POST", "/api/quotes/", b'{"vehicle": "X"}', content_type="")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("length", ["abc", "-1", "1.5"])
def test_a_malformed_content_length_is_a_json_400(debug, length):
    client = member_api()

    response = client.generic(
        "POST", "/api/quotes/", b"{}", content_type="application/json", CONTENT_LENGTH=length
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


# Through a real gunicorn: the test client cannot send a chunked request as a server gets it.

LIMIT = 1000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bodies")
    env = {
        "SECRET_KEY": "test-bodies",
        "TESTING": "1",
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MAX_REQUEST_BODY_BYTES": str(LIMIT),
    }
    gunicorn = Gunicorn(app="config.wsgi", workers=1, env=env, log_path=directory / "log")
    gunicorn.start()
    try:
        gunicorn.wait_ready()
        yield gunicorn
    finally:
        gunicorn.stop()


def send_chunked(port: int, path: str, body: bytes) -> tuple[int, dict]:
    """POST ``body`` in 100-byte chunks on a raw socket; return the status and JSON body."""
    chunks = b"".join(
        b"%X\r\n%s\r\n" % (len(body[i : i + 100]), body[i : i + 100])
        for i in range(0, len(body), 100)
    )
    request = (
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # closed with part of the body unread: what was sent before still counts
    head, _, payload = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def test_gunicorn_chunked_body_under_the_limit_is_parsed(server):
    status, body = send_chunked(server.port, "/api/auth/token/", b'{"username": "someone"}')

    assert status == 400
    assert body == {"password": ["This field is required."], "code": "required"}


def test_gunicorn_chunked_body_over_the_limit_is_a_413(server):
    status, body = send_chunked(server.port, "/api/auth/token/", b" " * (LIMIT + 1) + b"{}")

    assert status == 413
    assert body["code"] == "request_too_large"
    assert body["limit"] == LIMIT
