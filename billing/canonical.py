"""The hash chain: what of an issued document is hashed, in which canonical form.

Each document names the canonical version it was issued under, so a later version of the
form never breaks the chains of documents issued before it (docs/reference/hash-chain.md):

- Version 1: an invoice with one VAT rate and per-minute lines (position, kind, local_date,
  band_starts_at, minutes, rate, amount, capped); a credit note with that one rate.
- Version 2 (documents issued from the charge contract on): invoice lines carry description,
  quantity and unit, unit price, their own VAT rate or exemption reason, and the producer's
  details; the invoice's net and VAT are the sums per rate, and its ``vat_rate`` is the one
  rate all its lines share (``null`` when they do not); the invoice also carries the rest of
  what its PDF prints: the seller's legal form and SIREN, a business customer's company
  name, SIREN and VAT number, and its payment terms in days; a credit note carries its
  amount per VAT rate of the invoice (``vat_breakdown``).

The form: UTF-8 JSON, keys sorted, no white space (``separators=(",", ":")``), non-ASCII kept
as is; decimals as strings with exactly four decimal places (the stored precision); datetimes
in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; dates ``YYYY-MM-DD``; times ``HH:MM:SS``; absent
values ``null``. The document's own ``hash`` is left out and its ``previous_hash`` is in:
``hash = sha256(canonical).hexdigest()``. The first document of a series has
``previous_hash`` = 64 zeros.

Pure: no Django. Documents are read by attribute (a stored row or anything shaped like one).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Final

CURRENT_VERSION: Final = 2
VERSIONS: Final = frozenset({1, 2})
GENESIS_HASH: Final = "0" * 64
_FOUR_PLACES: Final = Decimal("0.0001")

_INVOICE_FIELDS: Final = {
    1: (
        "number", "series", "sequence", "issued_at", "time_zone", "customer_id",
        "billing_name", "billing_address", "seller_name", "seller_address", "seller_vat_id",
        "subject_kind", "subject_id", "period_started_at", "period_ended_at", "minutes",
        "currency", "net", "vat_rate", "vat", "total", "previous_hash",
    ),
    2: (
        "number", "series", "sequence", "issued_at", "time_zone", "member_id",
        "billing_name", "billing_address", "seller_name", "seller_address", "seller_vat_id",
        "subject_kind", "subject_id", "period_started_at", "period_ended_at", "currency",
        "net", "vat_rate", "vat", "total", "previous_hash", "seller_legal_form",
        "seller_siren", "buyer_company", "buyer_siren", "buyer_vat_id", "payment_terms_days",
    ),
}  # fmt: skip
_LINE_FIELDS: Final = {
    1: ("position", "kind", "local_date", "band_starts_at", "minutes", "rate", "amount", "capped"),
    2: (
        "position", "kind", "description", "local_date", "quantity", "unit", "unit_price",
        "amount", "vat_rate", "vat_exemption", "details",
    ),
}  # fmt: skip
_CREDIT_NOTE_FIELDS: Final = {
    1: (
        "number", "series", "sequence", "issued_at", "invoice_number", "reason", "currency",
        "net", "vat_rate", "vat", "total", "issued_by_id", "previous_hash",
    ),
    2: (
        "number", "series", "sequence", "issued_at", "invoice_number", "reason", "currency",
        "net", "vat_rate", "vat", "total", "vat_breakdown", "issued_by_id", "previous_hash",
    ),
}  # fmt: skip
# Version 1 named the billed member ``customer_id``; the stored row says ``member_id``.
_SOURCE_OF: Final = {"customer_id": "member_id"}


def invoice_content(invoice: Any, lines: Iterable[Any]) -> dict[str, Any]:
    """Return the hashed content of an invoice and its lines, in the invoice's version.

    Raises:
        ValueError: the invoice names an unknown canonical version.
    """
    version = _version(invoice)
    content = _fields(invoice, "invoice", version, _INVOICE_FIELDS[version])
    content["lines"] = [
        {name: getattr(line, name) for name in _LINE_FIELDS[version]}
        for line in sorted(lines, key=lambda line: line.position)
    ]
    return content


def credit_note_content(note: Any, invoice_number: str) -> dict[str, Any]:
    """Return the hashed content of a credit note, in the note's version.

    Raises:
        ValueError: the note names an unknown canonical version.
    """
    version = _version(note)
    values = {"invoice_number": invoice_number}
    return _fields(note, "credit_note", version, _CREDIT_NOTE_FIELDS[version], values)


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


def _version(document: Any) -> int:
    version = document.canonical_version
    if version not in VERSIONS:
        raise ValueError(f"unknown canonical version {version!r}")
    return int(version)


def _fields(
    document: Any,
    kind: str,
    version: int,
    names: tuple[str, ...],
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    given = values or {}
    content: dict[str, Any] = {"type": kind, "version": version}
    for name in names:
        content[name] = (
            given[name] if name in given else getattr(document, _SOURCE_OF.get(name, name))
        )
    return content
