"""The charge contract: lines carry their own VAT rate, quantity, unit and details.

Documents issued before keep their version-1 columns exactly as issued (only made nullable,
which is DDL: the immutability triggers see no row change); documents issued from now on
fill the version-2 columns. The invoice's ``customer`` is named ``member`` as in the API; the
unused ``created_at`` columns (always equal to ``issued_at``) go.
"""

from django.db import migrations, models

import billing.charges


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_credit_note_request_key"),
    ]

    operations = [
        migrations.RenameField(
            model_name="invoice",
            old_name="customer",
            new_name="member",
        ),
        migrations.RemoveField(
            model_name="creditnote",
            name="created_at",
        ),
        migrations.RemoveField(
            model_name="invoice",
            name="created_at",
        ),
        migrations.AddField(
            model_name="creditnote",
            name="vat_breakdown",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="description",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="details",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="quantity",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=20, null=True),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="unit",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="unit_price",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=20, null=True),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="vat_exemption",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="vat_rate",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=5, null=True),
        ),
        migrations.AlterField(
            model_name="creditnote",
            name="vat_rate",
            field=models.DecimalField(decimal_places=4, max_digits=5, null=True),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="minutes",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="vat_rate",
            field=models.DecimalField(decimal_places=4, max_digits=5, null=True),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="capped",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="kind",
            field=models.CharField(choices=billing.charges.line_kind_choices, max_length=24),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="local_date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="invoiceline",
            name="minutes",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
