"""Test-only worker: ``manage.py procrastinate worker`` with faults the test can kill it in.

Only tests/faults/test_outbox_faults.py runs it (``python -m tests.faults.faulty_worker``);
production runs ``manage.py procrastinate worker``, which knows nothing of this module.
With ``FAULT_DIR`` set, the first worker (of all of them) to get there:

- while storing a document, writes half of its file, leaves ``rendering.<pid>`` in
  FAULT_DIR and hangs: the test SIGKILLs it there, leaving a torn file nobody recorded;
- while delivering a webhook, sends it (the receiver gets it), leaves ``delivering.<pid>``
  and hangs before recording it: the test SIGKILLs it, so the event is sent again.

"The first" is decided by creating an ``armed`` file with O_EXCL, once per fault.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

FAULT_DIR = Path(os.environ["FAULT_DIR"]) if os.environ.get("FAULT_DIR") else None
HANG_SECONDS = 120


def _first(fault: str) -> bool:
    assert FAULT_DIR is not None
    try:
        os.close(os.open(FAULT_DIR / f"{fault}.armed", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _hang(fault: str) -> None:
    assert FAULT_DIR is not None
    (FAULT_DIR / f"{fault}.{os.getpid()}").write_text(str(os.getpid()))
    time.sleep(HANG_SECONDS)
    raise SystemExit(f"{fault}: not killed within {HANG_SECONDS} s")


def _install() -> None:
    from django.core.files.base import ContentFile

    from billing.documents import store
    from webhooks import delivery

    real_write_once = store._write_once
    real_post = delivery.post

    def write_once(name: str, data: bytes) -> None:
        if _first("rendering"):
            store.documents_storage().save(name, ContentFile(data[: len(data) // 2]))
            _hang("rendering")
        real_write_once(name, data)

    def post(target, body, headers):  # type: ignore[no-untyped-def]
        outcome = real_post(target, body, headers)
        if outcome.delivered and _first("delivering"):
            _hang("delivering")
        return outcome

    store._write_once = write_once
    delivery.post = post


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if FAULT_DIR is not None:
        _install()
    from django.core.management import call_command

    call_command("procrastinate", "worker", *sys.argv[1:])


if __name__ == "__main__":
    main()
