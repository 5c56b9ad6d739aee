"""Render a document: HTML template -> WeasyPrint PDF/A-3b -> Factur-X with its XML inside.

Deterministic: the same document gives the same bytes. Nothing printed comes from the clock
or settings (``content``); the PDF's dates are the document's issue date, its file
identifier is derived from its number and hash, and the factur-x library, which would
stamp the current time into the PDF and its XMP metadata, is given the issue date instead.
Fonts are Debian's DejaVu (``make`` installs ``fonts-dejavu-core``), looked up by name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from decimal import Decimal
from importlib import metadata
from typing import Any

from django.template.loader import render_to_string

from billing import money
from billing.documents import content as content_module
from billing.documents import facturx_xml

#: Bumped whenever the template or the rendering changes what a document looks like: a
#: stored file records the renderer that made it (re-rendering it elsewhere is refused).
TEMPLATE_VERSION = "1"
RENDERER = (
    f"template {TEMPLATE_VERSION}; weasyprint {metadata.version('weasyprint')}; "
    f"factur-x {metadata.version('factur-x')}"
)
_TEMPLATE = "billing/document.html"
# factur-x reads the clock through two module functions; they are swapped for the issue
# date while one document is embedded (a lock: other threads must not see the swap).
_clock_swap = threading.Lock()
_TITLES = {content_module.INVOICE: "Facture", content_module.CREDIT_NOTE: "Avoir"}


def render(content: content_module.Content) -> bytes:
    """Return the Factur-X PDF (PDF/A-3b, EN 16931 XML embedded) of a document.

    Raises:
        Exception: the factur-x library's, when the XML is not valid against the schema.
    """
    import weasyprint  # about a second to import: only where documents are rendered

    html = render_to_string(_TEMPLATE, _context(content))
    visual = weasyprint.HTML(string=html, base_url=None).write_pdf(
        pdf_variant="pdf/a-3b",
        pdf_identifier=hashlib.sha256(f"{content.number}:{content.hash}".encode()).digest()[:16],
        uncompressed_pdf=False,
    )
    return _embed(visual, facturx_xml.build(content), content)


def _embed(visual: bytes, xml: bytes, content: content_module.Content) -> bytes:
    import facturx
    from facturx import facturx as facturx_module

    issued = content.issued_at.astimezone(dt.UTC)
    metadata = {
        "author": content.seller.name,
        "keywords": "Factur-X",
        "title": f"{_TITLES[content.kind]} {content.number}",
        "subject": f"{_TITLES[content.kind]} {content.number} du {content.issued_local:%d/%m/%Y}",
    }
    with _clock_swap:
        saved = facturx_module._get_pdf_timestamp, facturx_module._get_metadata_timestamp
        facturx_module._get_pdf_timestamp = lambda date=None: saved[0](date or issued)
        facturx_module._get_metadata_timestamp = lambda: issued.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        try:
            return bytes(
                facturx.generate_from_binary(
                    visual,
                    xml,
                    flavor="factur-x",
                    level="en16931",
                    check_xsd=True,
                    pdf_metadata=metadata,
                    lang="fr-FR",
                )
            )
        finally:
            facturx_module._get_pdf_timestamp, facturx_module._get_metadata_timestamp = saved


def _context(content: content_module.Content) -> dict[str, Any]:
    currency = content.currency
    return {
        "doc": content,
        "title": _TITLES[content.kind],
        "created": content.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issued": f"{content.issued_local:%d/%m/%Y %H:%M}",
        "offset": content.issued_local.strftime("%z")[:3]
        + ":"
        + content.issued_local.strftime("%z")[3:],
        "period_start": f"{content.period_start_local:%d/%m/%Y %H:%M}",
        "period_end": f"{content.period_end_local:%d/%m/%Y %H:%M}",
        "lines": [
            {
                "line": line,
                "date": "" if line.local_date is None else f"{line.local_date:%d/%m/%Y}",
                "quantity": _number(line.quantity),
                "unit_price_net": _number(line.unit_price_net),
                "amount_net": french_amount(line.amount_net, currency),
                "amount": french_amount(line.amount, currency),
                "vat": _rate(line.vat_rate),
            }
            for line in content.lines
        ],
        "vat_totals": [
            {
                "rate": _rate(group.vat_rate),
                "exemption": group.vat_exemption,
                "net": french_amount(group.net, currency),
                "vat": french_amount(group.vat, currency),
                "total": french_amount(group.total, currency),
            }
            for group in content.vat_totals
        ],
        "net": french_amount(content.net, currency),
        "vat": french_amount(content.vat, currency),
        "total": french_amount(content.total, currency),
        "payment_terms": facturx_xml.payment_terms_text(content),
        "due_date": ""
        if content.payment_due_date is None
        else f"{content.payment_due_date:%d/%m/%Y}",
        "corrected_date": ""
        if content.corrected_issued_date is None
        else f"{content.corrected_issued_date:%d/%m/%Y}",
    }


def french_amount(amount: Decimal, currency: str) -> str:
    """Format an amount as printed: ``1 234,56 EUR`` (thin no-break space, decimal comma)."""
    text = money.format_amount(amount, currency)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, decimals = digits.partition(".")
    groups = f"{int(whole):,}".replace(",", "\u202f")
    return f"{sign}{groups}{',' + decimals if decimals else ''} {currency}"


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def _rate(vat_rate: Decimal | None) -> str:
    if vat_rate is None:
        return "hors champ"
    return f"{_number((vat_rate * 100).quantize(Decimal('0.01')).normalize())} %"
