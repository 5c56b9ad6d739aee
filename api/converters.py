"""Path converters: an id in a URL is a database id, or the path matches no route (JSON 404).

Django's ``<int:...>`` takes any number of digits, and a number past the database's 64-bit
integers fails in the database (a 500) instead of finding nothing. ``<id:...>`` takes 1 to
18 digits, all within range: anything longer is a 404 like any unknown path.
"""

from __future__ import annotations

from typing import Final

from django.urls import register_converter

#: The largest id accepted in a path or a body: 18 digits, below 2**63.
MAX_ID: Final = 999_999_999_999_999_999


class IdConverter:
    """A positive database id of at most 18 digits (below 2**63)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
