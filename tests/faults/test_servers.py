"""The fault suite's gunicorn servers own their port from the moment they are made."""

from __future__ import annotations

import errno
import socket

import pytest

from tests.faults.servers import Gunicorn


def test_a_server_holds_its_port_before_it_starts_so_no_other_run_can_take_it(tmp_path):
    server = Gunicorn(
        app="tests.faults.faulty_wsgi:application", workers=1, env={}, log_path=tmp_path / "log"
    )
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other,
            pytest.raises(OSError) as refused,
        ):
            other.bind(("127.0.0.1", server.port))
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        server.stop()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", server.port))  # given back once the server is stopped
