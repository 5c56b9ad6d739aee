"""Invoices snapshot the rest of what their PDF prints; rendered files are recorded once.

Version 2 of the canonical form gains the seller's legal form and SIREN, a business
customer's company name, SIREN and VAT number, and its payment terms. The new columns are
added with defaults (DDL: the immutability triggers see no row change), so version 1 rows
keep their hashes. A stored document (the file of one invoice or credit note and its
SHA-256) is guarded like the documents: PostgreSQL refuses UPDATE and DELETE on it.
"""

import django.db.models.deletion
from django.db import migrations, models

# The function is migration 0002's: the same refusal for the same reason.
GUARD = """
CREATE TRIGGER billing_storeddocument_immutable
    BEFORE UPDATE OR DELETE ON billing_storeddocument
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change_to_issued_document();
"""


def guard_stored_documents(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD)


def unguard_stored_documents(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS billing_storeddocument_immutable ON billing_storeddocument"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_charge_contract_lines_carry_their_vat"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="buyer_company",
            field=models.CharField(blank=True, db_default="", default="", max_length=200),
        ),
        migrations.AddField(
            model_name="invoice",
            name="buyer_siren",
            field=models.CharField(blank=True, db_default="", default="", max_length=9),
        ),
        migrations.AddField(
            model_name="invoice",
            name="buyer_vat_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=20),
        ),
        migrations.AddField(
            model_name="invoice",
            name="payment_terms_days",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invoice",
            name="seller_legal_form",
            field=models.CharField(blank=True, db_default="", default="", max_length=200),
        ),
        migrations.AddField(
            model_name="invoice",
            name="seller_siren",
            field=models.CharField(blank=True, db_default="", default="", max_length=9),
        ),
        migrations.CreateModel(
            name="DocumentLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("nonce", models.CharField(max_length=32)),
                ("created_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "credit_note",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link",
                        to="billing.creditnote",
                    ),
                ),
                (
                    "invoice",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link",
                        to="billing.invoice",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("credit_note__isnull", True), ("invoice__isnull", False)),
                            models.Q(("credit_note__isnull", False), ("invoice__isnull", True)),
                            _connector="OR",
                        ),
                        name="document_link_of_one_document",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="StoredDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("storage_name", models.CharField(max_length=255, unique=True)),
                ("sha256", models.CharField(max_length=64)),
                ("size", models.PositiveIntegerField()),
                ("renderer", models.CharField(max_length=200)),
                ("rendered_at", models.DateTimeField()),
                (
                    "credit_note",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stored",
                        to="billing.creditnote",
                    ),
                ),
                (
                    "invoice",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stored",
                        to="billing.invoice",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("credit_note__isnull", True), ("invoice__isnull", False)),
                            models.Q(("credit_note__isnull", False), ("invoice__isnull", True)),
                            _connector="OR",
                        ),
                        name="stored_document_of_one_document",
                    )
                ],
            },
        ),
        migrations.RunPython(guard_stored_documents, unguard_stored_documents, elidable=False),
    ]
