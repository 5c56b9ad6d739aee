"""The accounts as stored: the chart per zone, journal entries and their lines, closings.

Entries, their lines and closings are written once and never edited, like the documents
they come from (the ORM refuses here, PostgreSQL refuses in triggers, migration
``0008_journal_and_closings_are_immutable``). The chart is configuration: editing it
changes the accounts of entries posted from then on, never of those already posted, which
keep the account numbers and labels they were posted with.

Registered with the billing app (``billing.models`` imports this module).
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from billing.accounting import entries, periods
from billing.immutability import IssuedDocument

MONEY = {"max_digits": 20, "decimal_places": 4}
VAT_RATE = {"max_digits": 5, "decimal_places": 4}
_ACCOUNT = RegexValidator(
    f"^{entries.ACCOUNT_NUMBER.pattern}$",
    "Three digits of a French chart of accounts class (1-8), then up to 17 digits or capitals.",
)
# What a closing belongs to: one seller's zone, its clock and its money.
SCOPE = ("seller_vat_id", "series_prefix", "time_zone", "currency")
_JOURNAL = RegexValidator(f"^{entries.JOURNAL_CODE.pattern}$", "1-20 capitals and digits.")


class AccountChart(models.Model):
    """The accounts and journals of one zone, by its invoice prefix; blank means the default.

    A zone without a row posts to the defaults of ``settings.BILLING["ACCOUNTS"]`` (411, 706,
    44571, 467) in the journals ``VE`` + prefix (invoices) and ``AV`` + prefix (credit notes).
    """

    series_prefix = models.CharField(max_length=10, unique=True)
    receivable_account = models.CharField(max_length=20, blank=True, validators=[_ACCOUNT])
    receivable_label = models.CharField(max_length=100, blank=True)
    customer_prefix = models.CharField(
        max_length=20,
        blank=True,
        validators=[_ACCOUNT],
        help_text="A member's auxiliary account is this prefix and the member id.",
    )
    revenue_account = models.CharField(max_length=20, blank=True, validators=[_ACCOUNT])
    revenue_label = models.CharField(max_length=100, blank=True)
    vat_account = models.CharField(max_length=20, blank=True, validators=[_ACCOUNT])
    vat_label = models.CharField(max_length=100, blank=True)
    out_of_scope_account = models.CharField(max_length=20, blank=True, validators=[_ACCOUNT])
    out_of_scope_label = models.CharField(max_length=100, blank=True)
    sales_journal_code = models.CharField(max_length=20, blank=True, validators=[_JOURNAL])
    sales_journal_label = models.CharField(max_length=100, blank=True)
    credit_note_journal_code = models.CharField(max_length=20, blank=True, validators=[_JOURNAL])
    credit_note_journal_label = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"chart {self.series_prefix}"


class JournalEntry(IssuedDocument):
    """One document's entry in its journal: numbered without gaps per journal and fiscal year."""

    class DocumentKind(models.TextChoices):
        INVOICE = entries.INVOICE, "Invoice"
        CREDIT_NOTE = entries.CREDIT_NOTE, "Credit note"

    journal_code = models.CharField(max_length=20)
    journal_label = models.CharField(max_length=100)
    fiscal_year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    # The document's local issue date in its zone (FEC EcritureDate and PieceDate).
    entry_date = models.DateField()
    # The document's issue instant; closings and e-reporting select by it.
    issued_at = models.DateTimeField()
    # When it was posted (FEC ValidDate): the issue itself, or the back-posting migration.
    posted_at = models.DateTimeField()
    document_kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    invoice = models.OneToOneField(
        "billing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entry",
    )
    credit_note = models.OneToOneField(
        "billing.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entry",
    )
    document_number = models.CharField(max_length=44)
    # A credit note's entry reverses its invoice's.
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    # The closing scope: seller, zone (series prefix), its clock and its money.
    seller_vat_id = models.CharField(max_length=40)
    series_prefix = models.CharField(max_length=10)
    time_zone = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    label = models.CharField(max_length=200)
    # The sum of the debits, equal to the sum of the credits (a deferred trigger checks it).
    amount = models.DecimalField(**MONEY)
    line_count = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(
                fields=["journal_code", "fiscal_year", "number"], name="journal_entry_unique_number"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="journal_entry_number_gte_1"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="journal_entry_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(line_count__gte=2), name="journal_entry_two_lines_at_least"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        document_kind=entries.INVOICE,
                        invoice__isnull=False,
                        credit_note__isnull=True,
                    )
                    | Q(
                        document_kind=entries.CREDIT_NOTE,
                        invoice__isnull=True,
                        credit_note__isnull=False,
                    )
                ),
                name="journal_entry_one_document",
            ),
        ]
        indexes = [
            models.Index(fields=["series_prefix", "entry_date"], name="journal_entry_zone_date"),
            models.Index(fields=["fiscal_year", "entry_date"], name="journal_entry_year_date"),
            models.Index(fields=["entry_date"], name="journal_entry_date"),
        ]

    def __str__(self) -> str:
        return f"{self.journal_code} {self.fiscal_year} #{self.number}"


class JournalLine(IssuedDocument):
    """One line of an entry: an account, a debit or a credit, and the VAT group it books."""

    class Role(models.TextChoices):
        RECEIVABLE = entries.RECEIVABLE, "Receivable"
        REVENUE = entries.REVENUE, "Revenue"
        VAT = entries.VAT, "VAT collected"
        OUT_OF_SCOPE = entries.OUT_OF_SCOPE, "Outside the scope of VAT"

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=12, choices=Role.choices)
    account = models.CharField(max_length=20)
    account_label = models.CharField(max_length=100)
    auxiliary_account = models.CharField(max_length=30, blank=True)
    auxiliary_label = models.CharField(max_length=200, blank=True)
    label = models.CharField(max_length=200)
    debit = models.DecimalField(**MONEY)
    credit = models.DecimalField(**MONEY)
    vat_rate = models.DecimalField(**VAT_RATE, null=True, blank=True)
    vat_exemption = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "position"], name="journal_line_unique_pos"),
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0), name="journal_line_amounts_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(debit=0) | Q(credit=0), name="journal_line_one_side"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry}/{self.position}"


class Closing(IssuedDocument):
    """A closed period of one seller's zone: its totals, the grand totals, chained by hash."""

    class Kind(models.TextChoices):
        DAY = periods.DAY, "Day"
        MONTH = periods.MONTH, "Month"
        YEAR = periods.YEAR, "Fiscal year"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    seller_vat_id = models.CharField(max_length=40)
    series_prefix = models.CharField(max_length=10)
    time_zone = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    # Position in its chain (one chain per scope and kind), from 1.
    sequence = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    invoice_count = models.PositiveIntegerField()
    credit_note_count = models.PositiveIntegerField()
    # Credit notes count negative: what the period's documents add up to.
    net = models.DecimalField(**MONEY)
    vat = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    # Per VAT rate (or exemption): net, VAT and total, as hashed (decimal strings).
    vat_breakdown = models.JSONField()
    # Since the first document of the scope: signed, and in absolute value (NF525 practice).
    perpetual_total = models.DecimalField(**MONEY)
    perpetual_absolute_total = models.DecimalField(**MONEY)
    closed_at = models.DateTimeField()
    canonical_version = models.PositiveSmallIntegerField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            # Closing twice is refused: the periodic job and the command may race.
            models.UniqueConstraint(
                fields=[*SCOPE, "kind", "start_date"], name="closing_unique_period"
            ),
            models.UniqueConstraint(
                fields=[*SCOPE, "kind", "sequence"], name="closing_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="closing_period_ordered"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="closing_sequence_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.series_prefix} {self.kind} {self.start_date.isoformat()}"

    @property
    def document_count(self) -> int:
        """Invoices and credit notes of the period."""
        return self.invoice_count + self.credit_note_count
