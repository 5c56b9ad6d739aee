"""E-mail a member the one-click link to a document, once it is stored.

Sent through Django's e-mail backend (the console in the demo, SMTP in production). At
least once: the link row records the sending after the server accepted the message, so a
worker that dies in between sends it again, never zero times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from billing.documents import links, pdf, store
from billing.models import CreditNote, DocumentLink, Invoice
from core import transactions

logger = logging.getLogger(__name__)


def email_document(*, kind: str, document_id: int, now: datetime) -> bool:
    """Send the member the link to a stored document; return whether a message went out.

    Raises:
        store.UnknownDocument: no such document.
        store.DocumentNotRendered: the document is not stored yet.
        OSError, smtplib.SMTPException: the mail server refused or is unreachable (retried).
    """
    document = store.load(kind, document_id)
    if store.stored_of(document) is None:
        raise store.DocumentNotRendered(f"{document.number} is not stored yet.")
    user = _member_user(document)
    if not user.email:
        logger.info("%s: member %s has no e-mail address, none sent", document.number, user.pk)
        return False
    link = transactions.run_in_transaction(lambda: links.link_of(document, now=now))
    if link.emailed_at is not None:
        return False
    content = store.content_of(document)
    context = {
        "kind": kind,
        "name": content.buyer.name,
        "number": document.number,
        "issued": f"{content.issued_local:%d/%m/%Y}",
        "total": pdf.french_amount(content.total, content.currency),
        "corrected": content.corrected_number,
        "seller": content.seller.name,
        "url": links.url_for(document, link, user),
        "expires": f"{now + timedelta(days=settings.DOCUMENTS['LINK_MAX_AGE_DAYS']):%d/%m/%Y}",
    }
    subject = " ".join(render_to_string("billing/email/document_subject.txt", context).split())
    body = render_to_string("billing/email/document.txt", context)
    EmailMessage(subject=subject, body=body, to=[user.email]).send()
    # Only if the link is the one e-mailed: a revocation meanwhile asks for a new e-mail.
    DocumentLink.objects.filter(pk=link.pk, nonce=link.nonce).update(emailed_at=now)
    return True


def _member_user(document: Invoice | CreditNote) -> object:
    invoice = document if isinstance(document, Invoice) else document.invoice
    return invoice.member
