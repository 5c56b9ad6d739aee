"""A real SMTP server on loopback (aiosmtpd) that keeps the messages it receives."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

ATTEMPTS = 5


class Mailbox:
    """aiosmtpd's handler: every message accepted, parsed, kept in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(settings: Any) -> Iterator[Mailbox]:
    """Run an SMTP server on 127.0.0.1 and point Django's SMTP backend at it."""
    mailbox = Mailbox()
    controller, port = _started(mailbox)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    try:
        yield mailbox
    finally:
        controller.stop()


def link_in(message: EmailMessage) -> str:
    """Return the one-click link of a document e-mail (the line that holds ``?sesame=``)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    for line in body.get_content().splitlines():
        if "?sesame=" in line:
            return line.strip()
    raise AssertionError(f"no link in {body.get_content()!r}")


def _started(mailbox: Mailbox) -> tuple[Controller, int]:
    """Start the server on a free port, trying another if a parallel run took it meanwhile."""
    for attempt in range(1, ATTEMPTS + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            if attempt == ATTEMPTS:
                raise
            continue
        return controller, port
    raise AssertionError("unreachable")
