"""Real gunicorn servers on loopback ports, for tests that need separate app servers."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Each worker of tests.faults.faulty_wsgi names its database connection with this and its pid.
APPLICATION_NAME_PREFIX = "faults-worker-"
# Booting Django in every worker takes seconds on an idle machine and can take a minute or
# more beside other test runs; readiness is waited for, this only bounds a broken start.
BOOT_TIMEOUT_SECONDS = 300


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
    """One gunicorn master with sync workers, listening on a loopback socket bound here.

    The socket is bound (port 0: the kernel picks a free one) and held by the test before
    gunicorn starts, and gunicorn inherits it (``--bind fd://N``). Asking for a free port
    and letting gunicorn bind it later would leave a window in which another run's server
    or any outgoing connection can take the port: gunicorn then exits after its retries.
    """

    def __init__(self, *, app: str, workers: int, env: dict[str, str], log_path: Path) -> None:
        self.app = app
        self.workers = workers
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        # A mark of this server on its processes' command lines (see _owns).
        self.mark = f"FAULTS_SERVER={uuid.uuid4().hex}"
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the master on the held socket; its workers boot in the background."""
        fd = self.listener.fileno()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"fd://{fd}",
            "--env",
            self.mark,
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            # gunicorn kills a worker silent for this long, booting included: a slow boot
            # on a busy machine must not be mistaken for a hung worker and killed in a loop.
            "--timeout",
            str(BOOT_TIMEOUT_SECONDS),
            "--graceful-timeout",
            "5",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(fd,),
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """Return the master's current worker processes."""
        return children_of(self.pid)

    def wait_ready(self, timeout: float = BOOT_TIMEOUT_SECONDS) -> None:
        """Wait until every worker is up and /healthz answers 200.

        Returns as soon as that holds; the bound only keeps a broken server from hanging
        the suite, so it is far above a boot on a machine busy with other test runs.

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
        try:
            self._stop_processes()
        finally:
            self.listener.close()

    def _stop_processes(self) -> None:
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
        return self.mark.encode() in command and self.app.encode() in command

    def log_tail(self, lines: int = 40) -> str:
        """Return the end of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
