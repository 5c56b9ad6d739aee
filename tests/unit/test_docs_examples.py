"""The Python examples of the pricing reference run, and hold: the page cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGES = [Path(__file__).parents[2] / "docs" / "reference" / "pricing-rule.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
EXAMPLES = [
    pytest.param(code, id=f"{page.name}-{number}")
    for page in PAGES
    for number, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), start=1)
]


def test_the_pricing_reference_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("code", EXAMPLES)
def test_a_documented_example_runs_and_its_assertions_hold(code: str) -> None:
    exec(compile(code, "<docs example>", "exec"), {})
