"""The one request parser of the API: strict JSON, refused with a stable code when it is not.

Python's ``json`` accepts what a billing API must not: the last of two duplicate keys wins
(``{"amount": "0.01", "amount": "50.00"}``), ``NaN`` and ``Infinity``, escaped lone surrogates
that no encoder can write back (``"\\ud800"``), NUL characters PostgreSQL cannot store, and
nesting deep enough to exhaust the interpreter's stack. Each is a 400 with its own code.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser

#: Deepest nesting of arrays and objects accepted; the API's bodies need 3 (tariff bands).
MAX_DEPTH: Final = 20

_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_UTF_8_NAMES: Final = {"utf-8", "utf8"}


class StrictJSONParser(JSONParser):
    """Parse UTF-8 JSON, refusing duplicate keys, NaN, lone surrogates, NUL and deep nesting."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Return the parsed body.

        Raises:
            UnsupportedMediaType: the Content-Type names a charset other than UTF-8.
            ParseError: the body is not strict JSON (codes ``invalid_utf8``, ``parse_error``,
                ``json_too_deep``, ``duplicate_key``, ``lone_surrogate``, ``nul_character``).
        """
        _check_charset(media_type)
        raw = stream.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"The body is not valid UTF-8 (byte {exc.start}).", code="invalid_utf8"
            ) from None
        try:
            data = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
        except RecursionError:
            raise _too_deep() from None
        except ParseError:
            raise
        except ValueError as exc:  # JSONDecodeError, and integers past Python's digit limit
            raise ParseError(f"JSON parse error - {exc}", code="parse_error") from None
        _check_values(data)
        return data


def _check_charset(media_type: str | None) -> None:
    if not media_type:
        return
    _, params = parse_header_parameters(media_type)
    charset = params.get("charset")
    if charset is not None and charset.strip().lower() not in _UTF_8_NAMES:
        raise UnsupportedMediaType(media_type, detail="JSON bodies must be UTF-8.")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        _check_text(key, what="A key")
        if key in result:
            raise ParseError(
                f"Duplicate key {key!r} in a JSON object: send each field once.",
                code="duplicate_key",
            )
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ParseError(f"{name} is not JSON: numbers must be finite.", code="parse_error")


def _check_values(data: Any) -> None:
    """Walk the parsed body iteratively: its depth and every string in it."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value, what="A string")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)


def _check_text(text: str, *, what: str) -> None:
    if "\x00" in text:
        raise ParseError(f"{what} contains a NUL character (\\u0000).", code="nul_character")
    if _LONE_SURROGATE.search(text):
        raise ParseError(
            f"{what} contains a lone UTF-16 surrogate (e.g. \\ud800), which is not text.",
            code="lone_surrogate",
        )


def _too_deep() -> ParseError:
    return ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.", code="json_too_deep")
