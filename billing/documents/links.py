"""One-click links that open one document's PDF without a password (django-sesame).

A link carries a django-sesame token for the member whose scope names the document and
the nonce of its ``DocumentLink`` row: it opens that document only, for
``DOCUMENT_LINK_MAX_AGE_DAYS`` (``SESAME_MAX_AGE``), until the nonce is rotated (revoked)
or the member's password changes. It authorises one GET of that PDF, nothing else: it
logs no one in.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from sesame import utils as sesame

from billing.documents import store
from billing.models import CreditNote, DocumentLink, Invoice
from core import transactions

TOKEN_PARAMETER = "sesame"  # noqa: S105 - a query parameter's name


def scope(kind: str, number: str, nonce: str) -> str:
    """Return the sesame scope of the link to one document under one nonce."""
    return f"document:{kind}:{number}:{nonce}"


def link_of(document: Invoice | CreditNote, *, now: datetime) -> DocumentLink:
    """Return the document's link row, created with a fresh nonce on first use.

    Raises:
        RuntimeError: outside a transaction.
    """
    transactions.require_transaction("links.link_of")
    link, _ = DocumentLink.objects.select_for_update().get_or_create(
        **{store.kind_of(document): document},
        defaults={"nonce": secrets.token_hex(16), "created_at": now},
    )
    return link


def url_for(document: Invoice | CreditNote, link: DocumentLink, user: Any) -> str:
    """Return the absolute one-click URL of ``document``'s PDF for ``user``."""
    kind = store.kind_of(document)
    token = sesame.get_token(user, scope=scope(kind, document.number, link.nonce))
    base = settings.DOCUMENTS["PUBLIC_BASE_URL"]
    return f"{base}{store.pdf_path(kind, document.number)}?{urlencode({TOKEN_PARAMETER: token})}"


def user_of(token: str, *, kind: str, number: str) -> Any:
    """Return the user a link's token was made for, if it opens this document; else None."""
    field = "invoice__number" if kind == "invoice" else "credit_note__number"
    link = DocumentLink.objects.filter(**{field: number}).first()
    if link is None:
        return None
    return sesame.get_user(token, scope=scope(kind, number, link.nonce), update_last_login=False)


@transactions.use_case
def revoke(*, kind: str, number: str, now: datetime) -> DocumentLink | None:
    """Revoke every link sent for a document so far (a new e-mail gets a new one)."""
    field = "invoice__number" if kind == "invoice" else "credit_note__number"
    link = DocumentLink.objects.select_for_update().filter(**{field: number}).first()
    if link is None:
        return None
    link.nonce = secrets.token_hex(16)
    link.revoked_at = now
    link.emailed_at = None
    link.save(update_fields=["nonce", "revoked_at", "emailed_at"])
    return link
