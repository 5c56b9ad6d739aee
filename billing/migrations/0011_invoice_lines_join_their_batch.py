"""PostgreSQL accepts lines for every invoice of a batch issued in the same transaction.

Until now each invoice's insert marked the transaction with that one invoice's id, so lines
could only follow the last invoice inserted. A batch inserts its invoices with one
statement, then all their lines with another: the mark is now the transaction (or
savepoint) that inserted the invoices, read from their ``xmin``, once per statement. A line
is accepted only for an invoice inserted by the same (sub)transaction as the last invoices
inserted, which is never an invoice issued by an earlier transaction; rows that another
transaction has not committed are invisible here, so the mark cannot match theirs.
"""

from django.db import migrations

# Once per statement (a batch is one statement), not once per row.
MARK_BATCH = [
    """
CREATE OR REPLACE FUNCTION billing_mark_invoices_being_issued() RETURNS trigger AS $$
DECLARE
    marker text;
BEGIN
    SELECT invoice.xmin::text INTO marker FROM billing_invoice AS invoice
        WHERE invoice.id = (SELECT min(id) FROM inserted);
    IF marker IS NOT NULL THEN
        PERFORM set_config('billing.invoice_being_issued', marker, true);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
    "DROP TRIGGER billing_invoice_marks_its_issue ON billing_invoice",
    """
CREATE TRIGGER billing_invoice_marks_its_batch
    AFTER INSERT ON billing_invoice REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION billing_mark_invoices_being_issued();
""",
]

REFUSE_UNLESS_SAME_BATCH = """
CREATE OR REPLACE FUNCTION billing_refuse_line_added_after_issue() RETURNS trigger AS $$
BEGIN
    IF current_setting('billing.invoice_being_issued', true) IS DISTINCT FROM
            (SELECT xmin::text FROM billing_invoice WHERE id = NEW.invoice_id) THEN
        RAISE EXCEPTION 'issued documents are immutable: no line can be added to invoice %%',
            NEW.invoice_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# What 0002_issued_documents_are_immutable created, restored on the way back.
MARK_ONE = [
    "DROP TRIGGER billing_invoice_marks_its_batch ON billing_invoice",
    "DROP FUNCTION billing_mark_invoices_being_issued()",
    """
CREATE TRIGGER billing_invoice_marks_its_issue
    AFTER INSERT ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_mark_invoice_being_issued();
""",
]

REFUSE_UNLESS_LAST = """
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
"""


def batch_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in MARK_BATCH:
            schema_editor.execute(statement)
        schema_editor.execute(REFUSE_UNLESS_SAME_BATCH)


def single_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in MARK_ONE:
            schema_editor.execute(statement)
        schema_editor.execute(REFUSE_UNLESS_LAST)


class Migration(migrations.Migration):
    dependencies = [("billing", "0010_post_documents_issued_before_the_journal")]

    operations = [migrations.RunPython(batch_guard, single_guard, elidable=False)]
