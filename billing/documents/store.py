"""Store each document's file once, record its SHA-256, and never write over a stored file.

Runs in a worker, after the document's transaction committed. Rendering happens outside
any transaction (it is slow); recording the file is one short transaction that also raises
``document.rendered`` and defers the e-mail, so the three happen together or not at all.

A stored file is never rewritten. A file at the document's name that no row records is
what a worker killed while writing left behind: it is replaced. Rendering is
deterministic, so a document rendered twice (a retried job, two workers) gives the same
bytes; if it ever did not, the second rendering is refused and the first file stays.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.documents import content as content_module
from billing.documents import pdf
from billing.models import CreditNote, Invoice, StoredDocument
from core import events, outbox, transactions
from core.errors import ConflictError, NotFoundError
from core.localtime import utc_iso

logger = logging.getLogger(__name__)

EMAIL_TASK = "billing.email_document"
KINDS = (content_module.INVOICE, content_module.CREDIT_NOTE)


class RenderingDiffers(ConflictError):
    """Rendering a document again gave other bytes than its stored file: refused."""

    code = "rendering_differs"


class DocumentNotRendered(ConflictError):
    """The document's file is not stored yet (it is rendered shortly after its issue)."""

    code = "document_not_rendered"


class DocumentAltered(ConflictError):
    """The stored file no longer matches its recorded SHA-256."""

    code = "document_altered"


class UnknownDocument(NotFoundError):
    """No document of that kind has that id or number."""

    code = "document_not_found"


def documents_storage() -> Storage:
    """Return the storage that holds rendered documents (``STORAGES["documents"]``)."""
    return storages["documents"]


def load(kind: str, document_id: int) -> Invoice | CreditNote:
    """Return the invoice or credit note ``document_id``, with what rendering reads.

    Raises:
        UnknownDocument: no such document.
    """
    if kind == content_module.INVOICE:
        found: Invoice | CreditNote | None = (
            Invoice.objects.prefetch_related("lines").filter(pk=document_id).first()
        )
    elif kind == content_module.CREDIT_NOTE:
        found = CreditNote.objects.select_related("invoice").filter(pk=document_id).first()
    else:
        found = None
    if found is None:
        raise UnknownDocument(f"No {kind} {document_id}.")
    return found


def content_of(document: Invoice | CreditNote) -> content_module.Content:
    """Return what ``document`` shows."""
    if isinstance(document, Invoice):
        return content_module.of_invoice(document)
    return content_module.of_credit_note(document)


def kind_of(document: Invoice | CreditNote) -> str:
    """Return ``"invoice"`` or ``"credit_note"``."""
    return content_module.INVOICE if isinstance(document, Invoice) else content_module.CREDIT_NOTE


def storage_name(document: Invoice | CreditNote) -> str:
    """Return where a document's file is stored: ``invoices/PAR-2026/PAR-2026-000001.pdf``."""
    return f"{kind_of(document)}s/{document.series}/{document.number}.pdf"


def stored_of(document: Invoice | CreditNote) -> StoredDocument | None:
    """Return the stored file's record of ``document``, if it was rendered."""
    return StoredDocument.objects.filter(**{kind_of(document): document}).first()


def render_and_store(document: Invoice | CreditNote) -> StoredDocument:
    """Render ``document`` and store its file once; a no-op for a document already stored.

    Raises:
        RenderingDiffers: another rendering with other bytes was recorded meanwhile.
    """
    existing = stored_of(document)
    if existing is not None:
        return existing
    data = pdf.render(content_of(document))
    digest = hashlib.sha256(data).hexdigest()
    name = storage_name(document)
    _write_once(name, data)
    return transactions.run_in_transaction(lambda: _record(document, name, data, digest))


def read_verified(stored: StoredDocument) -> bytes:
    """Return a stored file's bytes, checked against the SHA-256 recorded at its storing.

    Raises:
        DocumentAltered: the file changed (or vanished) since it was stored.
    """
    try:
        with documents_storage().open(stored.storage_name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        logger.error("stored document %s cannot be read: %s", stored.storage_name, exc)
        raise DocumentAltered("The stored file of this document cannot be read.") from exc
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        logger.error("stored document %s does not match its SHA-256", stored.storage_name)
        raise DocumentAltered("The stored file of this document does not match its SHA-256.")
    return bytes(data)


def _write_once(name: str, data: bytes) -> None:
    storage = documents_storage()
    if storage.exists(name):
        with storage.open(name, "rb") as handle:
            if handle.read() == data:
                return
        if StoredDocument.objects.filter(storage_name=name).exists():
            raise RenderingDiffers(f"{name} is stored with other bytes; it is never rewritten.")
        logger.warning("replacing %s, left unrecorded by an interrupted write", name)
        storage.delete(name)
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        # Another worker wrote the same name meanwhile: keep the first file if it is ours.
        storage.delete(saved)
        with storage.open(name, "rb") as handle:
            if handle.read() != data:
                raise RenderingDiffers(f"{name} was written meanwhile with other bytes.")


def _record(document: Invoice | CreditNote, name: str, data: bytes, digest: str) -> StoredDocument:
    kind = kind_of(document)
    try:
        with transaction.atomic():  # a savepoint: another worker may have recorded it
            stored = StoredDocument.objects.create(
                **{kind: document},
                storage_name=name,
                sha256=digest,
                size=len(data),
                renderer=pdf.RENDERER,
                rendered_at=timezone.now(),
            )
    except IntegrityError:
        earlier = stored_of(document)
        if earlier is None:
            raise
        if earlier.sha256 != digest:
            raise RenderingDiffers(f"{document.number} was stored with other bytes.") from None
        return earlier
    events.publish(
        event_type="document.rendered",
        subject=document.number,
        occurred_at=stored.rendered_at,
        data=rendered_event_data(document, stored),
    )
    outbox.enqueue(EMAIL_TASK, kind=kind, document_id=document.pk)
    return stored


def rendered_event_data(document: Invoice | CreditNote, stored: StoredDocument) -> dict[str, Any]:
    """Return the body of ``document.rendered``: which document, its file's hash and size."""
    kind = kind_of(document)
    return {
        "kind": kind,
        "number": document.number,
        "sha256": stored.sha256,
        "size": stored.size,
        "pdf": pdf_path(kind, document.number),
        "rendered_at": utc_iso(stored.rendered_at),
    }


def pdf_path(kind: str, number: str) -> str:
    """Return the API path of a document's PDF."""
    collection = "invoices" if kind == content_module.INVOICE else "credit-notes"
    return f"/api/{collection}/{number}/pdf/"
