"""A webhook receiver on loopback, as a partner would write one: verify, deduplicate, log.

It checks each request's Standard Webhooks signature, keeps a deduplicated log (one entry
per ``webhook-id``) beside the raw list of every request it got, and can be told to fail
the first requests (500) and then recover, or to fail for good.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Received:
    """What the receiver got: every request, and the first copy of each event by id."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    log: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: int = 0
    bad_signatures: int = 0


class Receiver:
    """An HTTP server on 127.0.0.1 (a free port) that receives webhooks in a thread."""

    def __init__(self, secret: str, *, fail_first: int = 0, fail_always: bool = False) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.fail_always = fail_always
        self.received = Received()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def snapshot(self) -> Received:
        with self._lock:
            return Received(
                requests=list(self.received.requests),
                log=dict(self.received.log),
                refused=self.received.refused,
                bad_signatures=self.received.bad_signatures,
            )

    def _accept(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except Exception:
            with self._lock:
                self.received.bad_signatures += 1
            return 400
        with self._lock:
            self.received.requests.append({"id": headers.get("webhook-id"), **payload})
            if self.fail_always or len(self.received.requests) <= self.fail_first:
                self.received.refused += 1
                return 500
            # Deduplicated by the stable event id: a redelivery changes nothing.
            self.received.log.setdefault(headers["webhook-id"], payload)
            return 204

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                status = receiver._accept(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def event_types(received: Received) -> list[str]:
    """Return the deduplicated log's event types, sorted."""
    return sorted(payload["type"] for payload in received.log.values())


def dumps(received: Received) -> str:
    """Return the log as text, for failure messages."""
    return json.dumps(received.log, indent=1, sort_keys=True)[:4000]
