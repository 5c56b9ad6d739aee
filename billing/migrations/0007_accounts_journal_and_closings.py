"""The accounts: a chart per zone, journal entries with their lines, and closings.

Entries are numbered per journal and fiscal year (unique), each document posted once (one
to one), each line on one side; closings are unique per scope, kind and period, so a period
is never closed twice. Immutability and the balance check follow in 0007.
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_documents_and_business_buyers"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountChart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("series_prefix", models.CharField(max_length=10, unique=True)),
                (
                    "receivable_account",
                    models.CharField(
                        blank=True,
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[1-8][0-9]{2}[0-9A-Z]{0,17}$",
                                "Three digits of a French chart of accounts class (1-8), then up to 17 digits or capitals.",
                            )
                        ],
                    ),
                ),
                ("receivable_label", models.CharField(blank=True, max_length=100)),
                (
                    "customer_prefix",
                    models.CharField(
                        blank=True,
                        help_text="A member's auxiliary account is this prefix and the member id.",
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[1-8][0-9]{2}[0-9A-Z]{0,17}$",
                                "Three digits of a French chart of accounts class (1-8), then up to 17 digits or capitals.",
                            )
                        ],
                    ),
                ),
                (
                    "revenue_account",
                    models.CharField(
                        blank=True,
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[1-8][0-9]{2}[0-9A-Z]{0,17}$",
                                "Three digits of a French chart of accounts class (1-8), then up to 17 digits or capitals.",
                            )
                        ],
                    ),
                ),
                ("revenue_label", models.CharField(blank=True, max_length=100)),
                (
                    "vat_account",
                    models.CharField(
                        blank=True,
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[1-8][0-9]{2}[0-9A-Z]{0,17}$",
                                "Three digits of a French chart of accounts class (1-8), then up to 17 digits or capitals.",
                            )
                        ],
                    ),
                ),
                ("vat_label", models.CharField(blank=True, max_length=100)),
                (
                    "out_of_scope_account",
                    models.CharField(
                        blank=True,
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[1-8][0-9]{2}[0-9A-Z]{0,17}$",
                                "Three digits of a French chart of accounts class (1-8), then up to 17 digits or capitals.",
                            )
                        ],
                    ),
                ),
                ("out_of_scope_label", models.CharField(blank=True, max_length=100)),
                (
                    "sales_journal_code",
                    models.CharField(
                        blank=True,
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Z0-9]{1,20}$", "1-20 capitals and digits."
                            )
                        ],
                    ),
                ),
                ("sales_journal_label", models.CharField(blank=True, max_length=100)),
                (
                    "credit_note_journal_code",
                    models.CharField(
                        blank=True,
                        max_length=20,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Z0-9]{1,20}$", "1-20 capitals and digits."
                            )
                        ],
                    ),
                ),
                ("credit_note_journal_label", models.CharField(blank=True, max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Closing",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("DAY", "Day"), ("MONTH", "Month"), ("YEAR", "Fiscal year")],
                        max_length=5,
                    ),
                ),
                ("seller_vat_id", models.CharField(max_length=40)),
                ("series_prefix", models.CharField(max_length=10)),
                ("time_zone", models.CharField(max_length=64)),
                ("currency", models.CharField(max_length=3)),
                ("sequence", models.PositiveIntegerField()),
                ("start_date", models.DateField()),
                ("end_date", models.DateField()),
                ("started_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField()),
                ("invoice_count", models.PositiveIntegerField()),
                ("credit_note_count", models.PositiveIntegerField()),
                ("net", models.DecimalField(decimal_places=4, max_digits=20)),
                ("vat", models.DecimalField(decimal_places=4, max_digits=20)),
                ("total", models.DecimalField(decimal_places=4, max_digits=20)),
                ("vat_breakdown", models.JSONField()),
                ("perpetual_total", models.DecimalField(decimal_places=4, max_digits=20)),
                ("perpetual_absolute_total", models.DecimalField(decimal_places=4, max_digits=20)),
                ("closed_at", models.DateTimeField()),
                ("canonical_version", models.PositiveSmallIntegerField()),
                ("previous_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64, unique=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "seller_vat_id",
                            "series_prefix",
                            "time_zone",
                            "currency",
                            "kind",
                            "start_date",
                        ),
                        name="closing_unique_period",
                    ),
                    models.UniqueConstraint(
                        fields=(
                            "seller_vat_id",
                            "series_prefix",
                            "time_zone",
                            "currency",
                            "kind",
                            "sequence",
                        ),
                        name="closing_unique_sequence",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("end_date__gt", models.F("start_date"))),
                        name="closing_period_ordered",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("sequence__gte", 1)), name="closing_sequence_gte_1"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="JournalEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("journal_code", models.CharField(max_length=20)),
                ("journal_label", models.CharField(max_length=100)),
                ("fiscal_year", models.PositiveSmallIntegerField()),
                ("number", models.PositiveIntegerField()),
                ("entry_date", models.DateField()),
                ("issued_at", models.DateTimeField()),
                ("posted_at", models.DateTimeField()),
                (
                    "document_kind",
                    models.CharField(
                        choices=[("INVOICE", "Invoice"), ("CREDIT_NOTE", "Credit note")],
                        max_length=12,
                    ),
                ),
                ("document_number", models.CharField(max_length=44)),
                ("seller_vat_id", models.CharField(max_length=40)),
                ("series_prefix", models.CharField(max_length=10)),
                ("time_zone", models.CharField(max_length=64)),
                ("currency", models.CharField(max_length=3)),
                ("label", models.CharField(max_length=200)),
                ("amount", models.DecimalField(decimal_places=4, max_digits=20)),
                ("line_count", models.PositiveSmallIntegerField()),
                (
                    "credit_note",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="journal_entry",
                        to="billing.creditnote",
                    ),
                ),
                (
                    "invoice",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="journal_entry",
                        to="billing.invoice",
                    ),
                ),
                (
                    "reverses",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reversals",
                        to="billing.journalentry",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "journal entries",
            },
        ),
        migrations.CreateModel(
            name="JournalLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField()),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("RECEIVABLE", "Receivable"),
                            ("REVENUE", "Revenue"),
                            ("VAT", "VAT collected"),
                            ("OUT_OF_SCOPE", "Outside the scope of VAT"),
                        ],
                        max_length=12,
                    ),
                ),
                ("account", models.CharField(max_length=20)),
                ("account_label", models.CharField(max_length=100)),
                ("auxiliary_account", models.CharField(blank=True, max_length=30)),
                ("auxiliary_label", models.CharField(blank=True, max_length=200)),
                ("label", models.CharField(max_length=200)),
                ("debit", models.DecimalField(decimal_places=4, max_digits=20)),
                ("credit", models.DecimalField(decimal_places=4, max_digits=20)),
                (
                    "vat_rate",
                    models.DecimalField(blank=True, decimal_places=4, max_digits=5, null=True),
                ),
                ("vat_exemption", models.CharField(blank=True, max_length=200)),
                (
                    "entry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="billing.journalentry",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(
                fields=["series_prefix", "entry_date"], name="journal_entry_zone_date"
            ),
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(
                fields=["fiscal_year", "entry_date"], name="journal_entry_year_date"
            ),
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["entry_date"], name="journal_entry_date"),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.UniqueConstraint(
                fields=("journal_code", "fiscal_year", "number"), name="journal_entry_unique_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("number__gte", 1)), name="journal_entry_number_gte_1"
            ),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="journal_entry_amount_gte_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("line_count__gte", 2)), name="journal_entry_two_lines_at_least"
            ),
        ),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("credit_note__isnull", True),
                        ("document_kind", "INVOICE"),
                        ("invoice__isnull", False),
                    ),
                    models.Q(
                        ("credit_note__isnull", False),
                        ("document_kind", "CREDIT_NOTE"),
                        ("invoice__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="journal_entry_one_document",
            ),
        ),
        migrations.AddConstraint(
            model_name="journalline",
            constraint=models.UniqueConstraint(
                fields=("entry", "position"), name="journal_line_unique_pos"
            ),
        ),
        migrations.AddConstraint(
            model_name="journalline",
            constraint=models.CheckConstraint(
                condition=models.Q(("debit__gte", 0), ("credit__gte", 0)),
                name="journal_line_amounts_gte_0",
            ),
        ),
        migrations.AddConstraint(
            model_name="journalline",
            constraint=models.CheckConstraint(
                condition=models.Q(("debit", 0), ("credit", 0), _connector="OR"),
                name="journal_line_one_side",
            ),
        ),
    ]
