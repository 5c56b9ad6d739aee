"""A Python client generated from the OpenAPI schema, as a client developer would make it.

The schema is written by drf-spectacular from this test process (the same command as
``manage.py spectacular --validate --fail-on-warn``), then openapi-python-client generates a
package from that file, offline and without post-hooks, into a temporary directory; the
package is imported as generated. Any warning of either tool fails the fixture.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command

PACKAGE = "billing_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
# No post-hooks: the defaults run ruff over the generated code, which a client must not need.
CONFIG = f"package_name_override: {PACKAGE}\npost_hooks: []\n"


def write_schema(path: Path) -> None:
    """Write the OpenAPI schema as JSON, failing on any drf-spectacular warning or error."""
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(path),
    )


def generate_client(schema: Path, into: Path) -> str:
    """Generate the client package from ``schema``; return what the generator printed.

    Raises:
        AssertionError: the generator failed, or printed anything but its progress line.
    """
    config = into / "config.yml"
    config.write_text(CONFIG)
    package = into / PACKAGE
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(package),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, printed
    # A clean run prints its progress line only; a warning or error is a line of its own.
    assert printed.splitlines() == [f"Generating {package}"], printed
    return printed


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Return the generated client package, imported from a temporary directory."""
    into = tmp_path_factory.mktemp("generated_client")
    schema = into / "schema.json"
    write_schema(schema)
    generate_client(schema, into)
    sys.path.insert(0, str(into))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(into))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def module(name: str) -> ModuleType:
    """Import one module of the generated package, e.g. ``api.quotes.quotes_create``."""
    return importlib.import_module(f"{PACKAGE}.{name}")


class LiveApi:
    """Clients of the generated package for the live server, each closed after the test."""

    def __init__(self, generated: ModuleType, base_url: str, stack: ExitStack) -> None:
        self.generated, self.base_url, self._stack = generated, base_url, stack

    def anonymous(self) -> Any:
        """Return a client without credentials that raises on an undocumented status."""
        client = self.generated.Client(base_url=self.base_url, raise_on_unexpected_status=True)
        return self._stack.enter_context(client)

    def log_in(self, username: str) -> Any:
        """Return an authenticated client, its token obtained through the generated call.

        Raises:
            AssertionError: the token endpoint did not answer with a token.
        """
        models = module("models")
        token = module("api.auth.auth_token_create").sync(
            client=self.anonymous(),
            body=models.AuthTokenRequest(username=username, password=PASSWORD),
        )
        assert isinstance(token, models.Token), token
        client = self.generated.AuthenticatedClient(
            base_url=self.base_url,
            token=token.token,
            prefix="Token",  # DRF's TokenAuthentication, as tokenAuth's description says
            raise_on_unexpected_status=True,
        )
        return self._stack.enter_context(client)


@pytest.fixture
def api(generated: ModuleType, live_server: Any) -> Iterator[LiveApi]:
    """Return clients of the live server; closed afterwards, and its request threads ended.

    A kept-alive connection keeps a live-server thread, and that thread's database
    connection, open: the test database could then not be flushed or dropped cleanly.
    """
    with ExitStack() as stack:
        yield LiveApi(generated, live_server.url, stack)
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=10)
