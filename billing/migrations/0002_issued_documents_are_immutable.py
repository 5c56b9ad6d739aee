"""PostgreSQL refuses UPDATE and DELETE on issued documents, whoever sends them.

The ORM guard (billing.immutability) is skipped by raw SQL, ``QuerySet.update`` on another
manager, or a psql session; this trigger is not. Tests that plant tampering disable it
with ``ALTER TABLE ... DISABLE TRIGGER``, which needs the table owner.
"""

from django.db import migrations

TABLES = ("billing_invoice", "billing_invoiceline", "billing_creditnote")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION billing_refuse_change_to_issued_document() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'issued documents are immutable: %% on %% refused; issue a credit note',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

CREATE_TRIGGER = """
CREATE TRIGGER {table}_immutable
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change_to_issued_document();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in TABLES:
        schema_editor.execute(CREATE_TRIGGER.format(table=table))


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_refuse_change_to_issued_document()")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
