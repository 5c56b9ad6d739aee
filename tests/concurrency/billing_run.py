"""Run ``manage.py bill_subscriptions`` in a process of its own, as a host would (tests only).

    python -m tests.concurrency.billing_run --now INSTANT [--kill-at-batch N]
        [--barrier DIR --parties N] [--pause SECONDS] -- <bill_subscriptions arguments>

``--now`` pins this process's clock (time-machine), so the run's "now" never depends on the
day the tests run. ``--kill-at-batch N`` SIGKILLs the process from inside the issuing
transaction of its N-th batch, once the batch's invoices are inserted and before it
commits: a deterministic crash at the worst moment. ``--barrier`` releases several
processes at once; ``--pause`` holds each batch open a little, so that runs overlap.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--now", required=True)
    parser.add_argument("--kill-at-batch", type=int)
    parser.add_argument("--barrier", type=Path)
    parser.add_argument("--parties", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.0)
    args, command = parser.parse_known_args()
    command = [part for part in command if part != "--"]

    import django
    import time_machine

    django.setup()
    from django.core.management import execute_from_command_line

    from billing import invoicing

    batches = 0

    def at_each_batch(batch: invoicing.IssuedBatch) -> None:
        nonlocal batches
        batches += 1
        if batches == args.kill_at_batch:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(args.pause)

    invoicing.AFTER_INVOICES_INSERTED.append(at_each_batch)
    if args.barrier is not None:
        (args.barrier / str(os.getpid())).touch()
        deadline = time.monotonic() + 60
        while len(list(args.barrier.iterdir())) < args.parties:
            if time.monotonic() > deadline:
                sys.exit("the other runs never came")
            time.sleep(0.01)
    with time_machine.travel(args.now, tick=True):
        execute_from_command_line(["manage.py", "bill_subscriptions", *command])


if __name__ == "__main__":
    main()
