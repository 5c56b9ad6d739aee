"""Test-only WSGI entry point: the real application, with faults injected into numbering.

Only the fault-injection suite serves it (``gunicorn tests.faults.faulty_wsgi:application``);
production serves ``config.wsgi``, which knows nothing of this module. Importing it:

- wraps ``billing.numbering.take_number`` and ``take_numbers`` (invoices are numbered in
  batches, one of one when a rental ends) so that, with probability ``FAULT_RATE``, they
  raise ``InjectedFault`` *after* the number is taken: the counter row was incremented and
  locked, so the whole issuing transaction must roll back for the series to stay gapless;
- names each worker's database connection ``faults-worker-<pid>`` (``application_name``), so
  that the test can find which worker is inside a numbering transaction and kill it there;
- appends one line per injected fault to ``FAULT_LOG``, so that the test can count them.
"""

from __future__ import annotations

import os
import random

from django.conf import settings

from config.wsgi import application as _application
from tests.faults.servers import APPLICATION_NAME_PREFIX

FAULT_RATE = float(os.environ.get("FAULT_RATE", "0"))
FAULT_LOG = os.environ.get("FAULT_LOG", "")

# gunicorn imports the application in each worker (no --preload): this is the worker's pid.
settings.DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = (
    f"{APPLICATION_NAME_PREFIX}{os.getpid()}"
)


class InjectedFault(RuntimeError):
    """Raised on purpose inside the numbering transaction, after the number was taken."""


def _install() -> None:
    from billing import numbering

    real_take_number, real_take_numbers = numbering.take_number, numbering.take_numbers
    if getattr(real_take_number, "injects_faults", False):
        return

    def maybe_fail(series: str, first: int) -> None:
        if random.random() < FAULT_RATE:
            _log(f"numbering {os.getpid()} {series} {first}")
            raise InjectedFault(f"injected fault after taking {series} #{first}")

    def take_number(series: str) -> int:
        number = real_take_number(series)
        maybe_fail(series, number)
        return number

    def take_numbers(series: str, count: int) -> range:
        numbers = real_take_numbers(series, count)
        maybe_fail(series, numbers[0])
        return numbers

    take_number.injects_faults = True  # type: ignore[attr-defined]
    numbering.take_number = take_number
    numbering.take_numbers = take_numbers


def _log(line: str) -> None:
    if not FAULT_LOG:
        return
    # O_APPEND: one write per line, so lines from several workers never interleave.
    descriptor = os.open(FAULT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, f"{line}\n".encode())
    finally:
        os.close(descriptor)


_install()
application = _application
