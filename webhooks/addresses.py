"""Where a webhook may be sent: https, to public addresses only, checked after resolution.

A webhook URL is a request the service makes on someone else's behalf. A name that
resolves to loopback, a private network, link-local (cloud metadata at 169.254.169.254) or
any other non-global address would turn the service against its own network, so every
address the name resolves to is checked, at registration and again at each delivery, and
the delivery connects to the address that was checked (a second lookup could answer
differently). ``WEBHOOKS["ALLOW_PRIVATE_ADDRESSES"]`` lifts the address check (tests,
demo); ``WEBHOOKS["ALLOW_HTTP"]`` allows plain http (never in production).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import DomainError


class WebhookUrlRefused(DomainError):
    """The URL is not https, has no host, or resolves to an address the service never calls."""

    code = "webhook_url_refused"


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect to ``address``, present ``host`` (Host header, SNI)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def check(url: str) -> Target:
    """Return where ``url`` may be delivered, resolving its host once.

    Raises:
        WebhookUrlRefused: a scheme other than https (or http where allowed), no host,
            credentials in the URL, a host that does not resolve, or any resolved address
            that is not global (unless private addresses are allowed).
    """
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.WEBHOOKS["ALLOW_HTTP"] else {"https"}
    if parts.scheme not in allowed:
        raise WebhookUrlRefused(
            f"Webhook URLs must use {' or '.join(sorted(allowed))}.", field="url"
        )
    if parts.username or parts.password:
        raise WebhookUrlRefused("Webhook URLs carry no credentials.", field="url")
    host = parts.hostname
    if not host:
        raise WebhookUrlRefused("The webhook URL has no host.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookUrlRefused("The webhook URL's port is not a number.", field="url") from exc
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlRefused(f"The host {host!r} does not resolve.", field="url") from exc
    addresses = sorted({str(entry[4][0]) for entry in found})
    if not settings.WEBHOOKS["ALLOW_PRIVATE_ADDRESSES"]:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise WebhookUrlRefused(
                f"The host {host!r} resolves to an address the service never calls "
                f"({', '.join(refused)}).",
                field="url",
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, address=addresses[0], path=path)


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable (not loopback, private, link-local...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 64:ff9b::/96 reach IPv4 hosts: judge the IPv4 address.
        mapped = ip.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
            if ip in ipaddress.IPv6Network("64:ff9b::/96")
            else None
        )
        if mapped is not None:
            ip = mapped
    return bool(ip.is_global) and not ip.is_multicast
