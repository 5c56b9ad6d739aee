"""PostgreSQL refuses UPDATE and DELETE on issued documents, whoever sends them, and lines
added to an invoice after the transaction that issued it.

TRUNCATE is not guarded here (the test runner empties tables with it); in production the
application's database role must not own the tables, so it cannot TRUNCATE them.

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


# Lines are inserted with their invoice, in the issuing transaction. The invoice's insert
# marks the transaction (a transaction-local setting, undone with it or with a rolled-back
# savepoint); a line for any other invoice alters an issued one and is refused.
CREATE_LINE_GUARD_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION billing_mark_invoice_being_issued() RETURNS trigger AS $$
BEGIN
    PERFORM set_config('billing.invoice_being_issued', NEW.id::text, true);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""",
    """
CREATE OR REPLACE FUNCTION billing_refuse_line_added_after_issue() RETURNS trigger AS $$
BEGIN
    IF current_setting('billing.invoice_being_issued', true) IS DISTINCT FROM
            NEW.invoice_id::text THEN
        RAISE EXCEPTION 'issued documents are immutable: no line can be added to invoice %%',
            NEW.invoice_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""",
    """
CREATE TRIGGER billing_invoice_marks_its_issue
    AFTER INSERT ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_mark_invoice_being_issued();
""",
    """
CREATE TRIGGER billing_invoiceline_added_with_invoice_only
    BEFORE INSERT ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_line_added_after_issue();
""",
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in TABLES:
        schema_editor.execute(CREATE_TRIGGER.format(table=table))
    for statement in CREATE_LINE_GUARD_FUNCTIONS:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS billing_invoiceline_added_with_invoice_only ON billing_invoiceline"
    )
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS billing_invoice_marks_its_issue ON billing_invoice"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_refuse_line_added_after_issue()")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_mark_invoice_being_issued()")
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_refuse_change_to_issued_document()")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
