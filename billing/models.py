from django.conf import settings
from django.db import models
from django.db.models import Q

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
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices"
    )
    billing_name = models.CharField(max_length=200)
    billing_address = models.TextField()
    seller_name = models.CharField(max_length=200)
    seller_address = models.TextField()
    seller_vat_id = models.CharField(max_length=40)
    # What was billed: "rental" and its id. Billing knows no rental; the caller names it.
    subject_kind = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    period_started_at = models.DateTimeField()
    period_ended_at = models.DateTimeField()
    minutes = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    net = models.DecimalField(**MONEY)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4)
    vat = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    canonical_version = models.PositiveSmallIntegerField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Backstop against MAX+1 style duplicates (PITFALLS 11).
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


class InvoiceLine(IssuedDocument):
    class Kind(models.TextChoices):
        UNLOCK_FEE = "UNLOCK_FEE", "Unlock fee"
        MINUTES = "MINUTES", "Minutes"
        DAILY_CAP = "DAILY_CAP", "Daily cap"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    local_date = models.DateField()
    band_starts_at = models.TimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField()
    rate = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    capped = models.BooleanField()

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
    vat_rate = models.DecimalField(max_digits=5, decimal_places=4)
    vat = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    canonical_version = models.PositiveSmallIntegerField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
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
