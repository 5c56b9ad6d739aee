"""Webhook URLs: https only, and every resolved address public (no SSRF into our network)."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from webhooks import addresses

PRODUCTION = {
    "MAX_ATTEMPTS": 8,
    "BACKOFF_SECONDS": 30,
    "TIMEOUT_SECONDS": 10,
    "ALLOW_HTTP": False,
    "ALLOW_PRIVATE_ADDRESSES": False,
}


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://127.0.0.1/hooks", id="loopback"),
        pytest.param("https://localhost/hooks", id="a-name-that-resolves-to-loopback"),
        pytest.param("https://127.1/hooks", id="short-loopback"),
        pytest.param("https://2130706433/hooks", id="decimal-loopback"),
        pytest.param("https://10.0.0.8/hooks", id="private-10"),
        pytest.param("https://172.16.5.4/hooks", id="private-172"),
        pytest.param("https://192.168.1.1/hooks", id="private-192"),
        pytest.param("https://169.254.169.254/latest/meta-data", id="link-local-metadata"),
        pytest.param("https://[::1]/hooks", id="ipv6-loopback"),
        pytest.param("https://[::ffff:127.0.0.1]/hooks", id="ipv4-mapped-loopback"),
        pytest.param("https://[fe80::1]/hooks", id="ipv6-link-local"),
        pytest.param("https://[fd00::1]/hooks", id="ipv6-unique-local"),
        pytest.param("https://0.0.0.0/hooks", id="unspecified"),
        pytest.param("https://224.0.0.1/hooks", id="multicast"),
        pytest.param("http://93.184.216.34/hooks", id="plain-http"),
        pytest.param("ftp://93.184.216.34/hooks", id="another-scheme"),
        pytest.param("https://user:pass@93.184.216.34/hooks", id="credentials"),
        pytest.param("https:///hooks", id="no-host"),
    ],
)
def test_refused_webhook_urls(url):
    with override_settings(WEBHOOKS=PRODUCTION), pytest.raises(addresses.WebhookUrlRefused):
        addresses.check(url)


def test_a_public_address_is_accepted_and_pinned():
    with override_settings(WEBHOOKS=PRODUCTION):
        target = addresses.check("https://93.184.216.34:8443/hooks/billing?source=carshare")

    assert (target.scheme, target.host, target.port, target.address, target.path) == (
        "https",
        "93.184.216.34",
        8443,
        "93.184.216.34",
        "/hooks/billing?source=carshare",
    )


def test_tests_and_the_demo_may_allow_loopback_by_setting():
    allowed = {**PRODUCTION, "ALLOW_HTTP": True, "ALLOW_PRIVATE_ADDRESSES": True}
    with override_settings(WEBHOOKS=allowed):
        target = addresses.check("http://localhost:8080/hooks")

    assert target.address in {"127.0.0.1", "::1"}
    assert target.host == "localhost"


def _resolving_to(*addresses_found: str):
    def getaddrinfo(host, port, *args, **kwargs):
        if not addresses_found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses_found]

    return getaddrinfo


def test_a_public_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    # The text looks harmless; one of the addresses it resolves to is not (DNS rebinding).
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to("93.184.216.34", "10.0.0.5"))

    with (
        override_settings(WEBHOOKS=PRODUCTION),
        pytest.raises(addresses.WebhookUrlRefused) as refused,
    ):
        addresses.check("https://hooks.partner.example/billing")

    assert "10.0.0.5" in refused.value.message


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to())

    with override_settings(WEBHOOKS=PRODUCTION), pytest.raises(addresses.WebhookUrlRefused):
        addresses.check("https://hooks.partner.example/billing")


def test_a_name_resolving_to_public_addresses_is_delivered_to_the_one_checked(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to("93.184.216.34"))

    with override_settings(WEBHOOKS=PRODUCTION):
        target = addresses.check("https://hooks.partner.example/billing")

    assert (target.host, target.address) == ("hooks.partner.example", "93.184.216.34")
