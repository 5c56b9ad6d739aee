"""The canonical form of an issued document, and the hash that chains a series.

Version 1 (documented in README "Hash chain"): UTF-8 JSON, keys sorted, no white space
(``separators=(",", ":")``), non-ASCII kept as is; decimals as strings with exactly four
decimal places (the stored precision); datetimes in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
dates ``YYYY-MM-DD``; times ``HH:MM:SS``; absent values ``null``. The document's own
``hash`` is left out and its ``previous_hash`` is in: ``hash = sha256(canonical).hexdigest()``.
The first document of a series has ``previous_hash`` = 64 zeros.

Pure: no Django.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

CANONICAL_VERSION = 1
GENESIS_HASH = "0" * 64
_FOUR_PLACES = Decimal("0.0001")


def canonical_value(value: Any) -> Any:
    """Return ``value`` in its canonical JSON form (recursively).

    Raises:
        TypeError: for a naive datetime or a type with no canonical form.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value.quantize(_FOUR_PLACES))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime has no canonical form")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dict):
        return {str(key): canonical_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(item) for item in value]
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """Serialise a document's content (``previous_hash`` included) canonically."""
    return json.dumps(
        canonical_value(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def document_hash(content: dict[str, Any]) -> str:
    """Return the SHA-256 hex digest of the canonical form of ``content``."""
    return hashlib.sha256(canonical_bytes(content)).hexdigest()
