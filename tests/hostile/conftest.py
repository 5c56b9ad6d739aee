"""Show how many generated requests the hostile-input suite sent, even under ``-q``."""

from __future__ import annotations

from collections import Counter

import pytest

# (role, status) -> requests; filled by tests/hostile/test_schemathesis.py.
SENT: Counter[tuple[str, int]] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SENT:
        return
    terminalreporter.write_sep("-", "schemathesis: generated requests by role and status")
    for role in sorted({role for role, _ in SENT}):
        statuses = {status: n for (who, status), n in sorted(SENT.items()) if who == role}
        terminalreporter.write_line(f"{role}: {sum(statuses.values())} requests {statuses}")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash the many users these tests create cheaply; no test here is about hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
