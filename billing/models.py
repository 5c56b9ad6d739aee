"""Issued documents as stored: invoices, their lines, credit notes. Never edited once issued.

A document is stored under the canonical version it was issued with (``canonical_version``).
Version 1 (before lines carried their own VAT) used the per-minute columns ``minutes``,
``rate``, ``band_starts_at`` and ``capped`` and one ``vat_rate`` per document; version 2 stores
the charge contract's lines (``billing.charges``): description, quantity and unit, unit price,
VAT rate or exemption per line, and the producer's details. Each version's columns stay
exactly as issued, so that its hash always recomputes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from billing import charges
from billing.immutability import IssuedDocument

# Wide enough for any rental the API accepts (rates are bounded by MoneyField).
MONEY = {"max_digits": 20, "decimal_places": 4}


class Invoice(IssuedDocument):
    """An issued invoice: numbered gaplessly in its series, chained by hash, never edited."""

    number = models.CharField(max_length=40, unique=True)
    series = models.CharField(max_length=30)
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    # The billed member's account (its id is the member id of the API and the exports).
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices"
    )
    billing_name = models.CharField(max_length=200)
    billing_address = models.TextField()
    seller_name = models.CharField(max_length=200)
    seller_address = models.TextField()
    seller_vat_id = models.CharField(max_length=40)
    # Version 2: the rest of the legal mentions (CGI annexe II art. 242 nonies A), as printed.
    seller_legal_form = models.CharField(max_length=200, blank=True, default="", db_default="")
    seller_siren = models.CharField(max_length=9, blank=True, default="", db_default="")
    # A business customer's identity (blank for a consumer) and its payment terms in days.
    # Database defaults too: rows written by SQL alone (benchmarks, tests) stay valid.
    buyer_company = models.CharField(max_length=200, blank=True, default="", db_default="")
    buyer_siren = models.CharField(max_length=9, blank=True, default="", db_default="")
    buyer_vat_id = models.CharField(max_length=20, blank=True, default="", db_default="")
    payment_terms_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # What was billed ("rental" and its id, a fee, a pass period): the producer names it.
    subject_kind = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    period_started_at = models.DateTimeField()
    period_ended_at = models.DateTimeField()
    minutes = models.PositiveIntegerField(null=True, blank=True)  # version 1 only
    currency = models.CharField(max_length=3)
    net = models.DecimalField(**MONEY)
    # The one VAT rate of the document; null when its lines have several (version 2).
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    vat = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    canonical_version = models.PositiveSmallIntegerField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            # Backstop against MAX+1 style duplicates: the counter is not the only guard.
            models.UniqueConstraint(
                fields=["series", "sequence"], name="invoice_unique_series_seq"
            ),
            # One invoice per billed thing: a rental is never invoiced twice.
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id"], name="invoice_unique_subject"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="invoice_sequence_gte_1"),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_gte_0"),
            models.CheckConstraint(
                condition=Q(period_ended_at__gte=models.F("period_started_at")),
                name="invoice_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["issued_at"], name="invoice_issued_at")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_business(self) -> bool:
        """Whether it was issued to a business customer (it names the buyer's SIREN)."""
        return bool(self.buyer_siren)


class InvoiceLine(IssuedDocument):
    """One line of an invoice, in position order; the lines sum to the invoice's total."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    # A callable: a new kind in billing.charges needs no migration.
    kind = models.CharField(max_length=charges.KIND_MAX_LENGTH, choices=charges.line_kind_choices)
    local_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    # Version 2: the charge contract's line.
    description = models.CharField(max_length=200, blank=True, default="")
    quantity = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True, default="")
    unit_price = models.DecimalField(**MONEY, null=True, blank=True)
    # Null with an exemption reason: outside the scope of VAT.
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    vat_exemption = models.CharField(max_length=200, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    # Version 1: the per-minute columns of the first canonical form.
    band_starts_at = models.TimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    rate = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    capped = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_unique_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice.number}#{self.position}"


class CreditNote(IssuedDocument):
    """A correction of an invoice, in its own gapless series (``AV-`` + the invoice's)."""

    number = models.CharField(max_length=44, unique=True)
    series = models.CharField(max_length=34)
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    reason = models.TextField()
    currency = models.CharField(max_length=3)
    net = models.DecimalField(**MONEY)
    # The one VAT rate credited; null when the invoice has several (version 2).
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True)
    vat = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    # Version 2: the credited amount per VAT rate of the invoice, as hashed (decimal strings).
    vat_breakdown = models.JSONField(null=True, blank=True)
    canonical_version = models.PositiveSmallIntegerField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The issuer's request key (Idempotency-Key): the same request never credits twice.
    request_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "sequence"], name="credit_note_unique_series_seq"
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_gt_0"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="credit_note_sequence_gte_1"),
            models.UniqueConstraint(
                fields=["issued_by", "request_key"],
                condition=~Q(request_key=""),
                name="credit_note_unique_request_key",
            ),
        ]
        indexes = [models.Index(fields=["issued_at"], name="credit_note_issued_at")]

    def __str__(self) -> str:
        return self.number


class StoredDocument(IssuedDocument):
    """The rendered file of one invoice or credit note: where it is stored and its SHA-256.

    Written once, after the document's transaction committed, by the worker that rendered
    it; like the documents it is never changed (the same database guards), and the file it
    names is never overwritten.
    """

    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="stored"
    )
    credit_note = models.OneToOneField(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="stored"
    )
    storage_name = models.CharField(max_length=255, unique=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    # What rendered it (template and library versions): the same renderer, the same bytes.
    renderer = models.CharField(max_length=200)
    rendered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, credit_note__isnull=True)
                | Q(invoice__isnull=True, credit_note__isnull=False),
                name="stored_document_of_one_document",
            ),
        ]

    def __str__(self) -> str:
        return self.storage_name


class DocumentLink(models.Model):
    """The one-click link of a document's e-mail: a nonce in its django-sesame scope.

    Not a document: rotating the nonce revokes every link sent so far (a new e-mail gets a
    new link); ``emailed_at`` records that the e-mail went out.
    """

    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="link"
    )
    credit_note = models.OneToOneField(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="link"
    )
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, credit_note__isnull=True)
                | Q(invoice__isnull=True, credit_note__isnull=False),
                name="document_link_of_one_document",
            ),
        ]

    def __str__(self) -> str:
        return f"link {self.pk}"


# The accounts' models live with their package and belong to this app (its models module).
from billing.accounting.models import (  # noqa: E402
    AccountChart,
    Closing,
    JournalEntry,
    JournalLine,
)

__all__ = [
    "AccountChart",
    "Closing",
    "CreditNote",
    "DocumentLink",
    "Invoice",
    "InvoiceLine",
    "JournalEntry",
    "JournalLine",
    "StoredDocument",
]
