"""Ending rentals over HTTP under gunicorn, beside a gapless write and a trivial read.

For each server shape (sync workers, or workers x threads with gthread) one gunicorn on
loopback serves the production WSGI application, with ``bench.settings`` adding one URL, on
the scratch database. ``wrk`` on 127.0.0.1 sends, for a fixed time on a fixed number of
connections, ``POST /api/rentals/{id}/end/`` for a distinct pre-started rental per request
(with its member's token and an Idempotency-Key, as the apps send); then, as the write
ceiling, ``POST /bench/gapless-write/`` (bench/gapless.py: a number and one invoice row in
one transaction, through the same authentication and permission); then, as the read ceiling,
``GET /api/rentals/?page_size=1`` as a member with no rental.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.scratch import ROOT, OpenRental, child_env

WRK = Path(__file__).resolve().parent / "wrk"
THREADS = 2


@dataclass(frozen=True, slots=True)
class Shape:
    """How gunicorn serves: ``workers`` processes of ``threads`` threads (gthread beyond 1)."""

    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> Shape:
        """Read ``"3"`` (3 sync workers) or ``"2x4"`` (2 workers of 4 threads).

        Raises:
            ValueError: not a positive count, or two joined by ``x``.
        """
        workers, _, threads = text.partition("x")
        shape = cls(int(workers), int(threads or 1))
        if shape.workers < 1 or shape.threads < 1:
            raise ValueError(f"not a gunicorn shape: {text!r}")
        return shape

    def __str__(self) -> str:
        if self.threads == 1:
            return f"{self.workers} sync workers"
        return f"{self.workers} workers x {self.threads} threads (gthread)"


@dataclass(frozen=True, slots=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    #: Answers other than the script's expected status (200, or 201 for the gapless write).
    unexpected: int
    exhausted: int
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Loads:
    """One server's three measurements: the use case and its two ceilings."""

    ending: Load
    gapless: Load
    read: Load


def free_port() -> int:
    """Return a loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn serving config.wsgi (with bench.settings) on 127.0.0.1, scratch database."""

    def __init__(self, database_url: str, *, shape: Shape, log: Path) -> None:
        self.port = free_port()
        self.workers = shape.workers
        env = child_env(
            database_url,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            LOG_LEVEL="INFO",
            DJANGO_SETTINGS_MODULE="bench.settings",
        )
        threads = [] if shape.threads == 1 else [f"--threads={shape.threads}"]
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    f"--bind=127.0.0.1:{self.port}",
                    f"--workers={shape.workers}",
                    f"--worker-class={'sync' if shape.threads == 1 else 'gthread'}",
                    *threads,
                    "--timeout=60",
                ],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait for /healthz to answer 200 from every worker (each connects once).

        Raises:
            RuntimeError: gunicorn exited or did not answer in time.
        """
        deadline = time.monotonic() + timeout
        answered = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                answered += connection.getresponse().status == 200
                connection.close()
            except OSError:
                time.sleep(0.1)
                continue
            if answered >= 4 * self.workers:
                return
        raise RuntimeError(f"gunicorn on port {self.port} did not become ready")

    def stop(self) -> None:
        """Stop gracefully, then for good."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def wrk(port: int, script: str, *, connections: int, seconds: int, env: dict[str, str]) -> Load:
    """Run ``wrk`` against 127.0.0.1 only; parse the line the script's done() prints.

    Raises:
        RuntimeError: wrk is missing or failed.
    """
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is missing: apt-get install -y wrk (make bench does)")
    result = subprocess.run(
        [
            binary,
            f"--threads={THREADS}",
            f"--connections={connections}",
            f"--duration={seconds}s",
            "--timeout=30s",
            f"--script={WRK / script}",
            f"http://127.0.0.1:{port}/",
        ],
        env={**os.environ, "BENCH_WRK": str(WRK), "BENCH_THREADS": str(THREADS), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    line = re.search(r"^BENCH (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
    figures = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.group(1))}
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        unexpected=figures["unexpected"],
        exhausted=figures["exhausted"],
        socket_errors=figures["socket_errors"],
    )


def run(
    database_url: str,
    *,
    shape: Shape,
    rentals: Sequence[OpenRental],
    reader_token: str,
    writer_token: str,
    connections: int,
    seconds: int,
) -> Loads:
    """Serve in ``shape``, warm up, then measure ending rentals and both ceilings."""
    with tempfile.TemporaryDirectory() as folder:
        pairs = Path(folder) / "pairs.txt"
        pairs.write_text("".join(f"{r.token} {r.rental_id}\n" for r in rentals))
        server = Server(database_url, shape=shape, log=Path(folder) / "gunicorn.log")
        try:
            server.wait_ready()
            reader = {"BENCH_TOKEN": reader_token}
            wrk(server.port, "ceiling.lua", connections=connections, seconds=2, env=reader)

            def measure(script: str, env: dict[str, str]) -> Load:
                return wrk(server.port, script, connections=connections, seconds=seconds, env=env)

            ending = measure("end_rental.lua", {"BENCH_PAIRS": str(pairs)})
            gapless = measure("gapless_write.lua", {"BENCH_TOKEN": writer_token})
            read = measure("ceiling.lua", reader)
        finally:
            server.stop()
    return Loads(ending=ending, gapless=gapless, read=read)
