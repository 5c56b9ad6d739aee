"""Real gunicorn servers on loopback ports, for tests that need separate app servers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Each worker of tests.faults.faulty_wsgi names its database connection with this and its pid.
APPLICATION_NAME_PREFIX = "faults-worker-"


def database_url() -> str:
    """Return a URL naming the database Django uses now (pytest-django's test database)."""
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def pg_connect(application_name: str = "faults-injector") -> psycopg.Connection:
    """Open an autocommit connection of our own to the test database, beside Django's."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        autocommit=True,
        application_name=application_name,
    )


def free_port() -> int:
    """Return a loopback TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """Return the pids whose parent is ``pid``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        # The command name is in parentheses and may hold spaces: split after the last one.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class Gunicorn:
    """One gunicorn master with sync workers, bound to 127.0.0.1 only."""

    def __init__(self, *, app: str, workers: int, env: dict[str, str], log_path: Path) -> None:
        self.app = app
        self.workers = workers
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the master; its workers boot in the background."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """Return the master's current worker processes."""
        return children_of(self.pid)

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until every worker is up and /healthz answers 200.

        Raises:
            AssertionError: the server exited or did not answer in time.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_tail()
            if len(self.worker_pids()) >= self.workers and self.get("/healthz")[0] == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"gunicorn on port {self.port} not ready:\n{self.log_tail()}")

    def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path``; ``(0, b"")`` when the server does not answer."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            return 0, b""
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill the master and its workers if they linger."""
        if self.process is None or self.process.poll() is not None:
            return
        workers = self.worker_pids()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        for pid in workers:
            if self._owns(pid):  # a worker that outlived its master
                os.kill(pid, signal.SIGKILL)

    def _owns(self, pid: int) -> bool:
        """Whether ``pid`` still runs this server's command line (workers inherit it)."""
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"127.0.0.1:{self.port}".encode() in command and self.app.encode() in command

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
