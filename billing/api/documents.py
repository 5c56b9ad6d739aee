"""The PDF of an invoice or credit note: for its member, finance and auditors, or by link.

``?sesame=<token>`` is the one-click link of the document's e-mail: it opens that document
only (its scope names the document and the link's nonce), until it expires or is revoked,
and it logs no one in. Otherwise the usual token or session authentication applies: a
member sees their own documents (404 for others), finance and auditors all.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.permissions import IsMemberOrFinanceOrAuditor
from api.schema import errors
from billing import invoicing, queries
from billing.documents import links, store
from billing.models import CreditNote, Invoice
from core.errors import NotFoundError

LINK_AUTH = "document-link"


class CreditNoteNotFound(NotFoundError):
    """No credit note has that number (or the caller may not see it)."""

    code = "credit_note_not_found"


class DocumentLinkAuthentication(BaseAuthentication):
    """Authenticate a django-sesame token that was made for this one document."""

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        token = request.query_params.get(links.TOKEN_PARAMETER)
        if token is None:
            return None
        view = request.parser_context["view"]
        user = links.user_of(
            token, kind=view.kind, number=request.parser_context["kwargs"]["number"]
        )
        if user is None:
            raise AuthenticationFailed(
                "This link does not open this document, has expired or was revoked.",
                code="document_link_invalid",
            )
        return user, LINK_AUTH

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class DocumentLinkScheme(OpenApiAuthenticationExtension):
    """The one-click link's token, in the query string (for the schema)."""

    target_class = DocumentLinkAuthentication
    name = "documentLink"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": links.TOKEN_PARAMETER}


class DocumentPdf(APIView):
    """Answer the stored file, checked against its SHA-256, never rendered on the fly."""

    kind = ""
    permission_classes = [IsMemberOrFinanceOrAuditor]
    authentication_classes = [
        DocumentLinkAuthentication,
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
    ]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The PDF is a plain response that no renderer touches; errors are always JSON, so
        # that Accept: application/pdf is never a 406.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def document(self, request: Request, number: str) -> Invoice | CreditNote:
        raise NotImplementedError

    def get(self, request: Request, number: str) -> HttpResponse:
        document = self.document(request, number)
        stored = store.stored_of(document)
        if stored is None:
            raise store.DocumentNotRendered(
                f"{number} is being rendered; try again in a few seconds."
            )
        response = HttpResponse(store.read_verified(stored), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{number}.pdf"'
        response["ETag"] = f'"{stored.sha256}"'
        response["Cache-Control"] = "private, no-store"
        # The link's token is in the URL: never send it on to another site.
        response["Referrer-Policy"] = "no-referrer"
        return response


_PDF_SCHEMA = {
    "parameters": [
        OpenApiParameter(
            links.TOKEN_PARAMETER,
            str,
            description="the one-click token of the document's e-mail (instead of a Token)",
        )
    ],
    "responses": {
        (200, "application/pdf"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The stored Factur-X PDF (EN 16931 XML inside)."
        ),
        **errors(400, 401, 403, 404, 409),
    },
}


class InvoicePdf(DocumentPdf):
    kind = "invoice"

    @extend_schema(operation_id="invoices_pdf", **_PDF_SCHEMA)
    def get(self, request: Request, number: str) -> HttpResponse:
        return super().get(request, number)

    def document(self, request: Request, number: str) -> Invoice:
        invoice = queries.invoices_visible_to(request.user).filter(number=number).first()
        if invoice is None:
            raise invoicing.InvoiceNotFound(f"No invoice numbered {number!r}.")
        return invoice


class CreditNotePdf(DocumentPdf):
    kind = "credit_note"

    @extend_schema(operation_id="credit_notes_pdf", **_PDF_SCHEMA)
    def get(self, request: Request, number: str) -> HttpResponse:
        return super().get(request, number)

    def document(self, request: Request, number: str) -> CreditNote:
        note = queries.credit_notes_visible_to(request.user).filter(number=number).first()
        if note is None:
            raise CreditNoteNotFound(f"No credit note numbered {number!r}.")
        return note
