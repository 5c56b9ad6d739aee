"""Print what the fault-injection suite checked, even under ``-q`` and without ``-s``."""

from __future__ import annotations

import pytest

# Filled by the tests: a title, then "name: count" lines, shown in the terminal summary.
REPORTS: dict[str, dict[str, object]] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, counts in REPORTS.items():
        terminalreporter.write_sep("-", title)
        for name, value in counts.items():
            terminalreporter.write_line(f"{name}: {value}")
