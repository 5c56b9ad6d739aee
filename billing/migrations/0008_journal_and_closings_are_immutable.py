"""PostgreSQL refuses UPDATE and DELETE on journal entries, their lines and closings, and
refuses at commit any entry whose lines do not balance.

The balance check is a deferred constraint trigger, run at COMMIT once the entry and its lines
are all in: for the entry touched (by its own insert or by a line's), the debits must equal
the credits, both must equal the entry's ``amount``, and the lines must number its
``line_count``. A line added later to a posted entry therefore fails the same check. It
runs while the series counter is still locked, so an entry is checked once, in one query,
whatever number of lines fire it. As for
documents (0002), TRUNCATE is not guarded, and tests that plant tampering disable the
``<table>_immutable`` triggers (and ``billing_journal_balanced`` ones) as the table owner.
"""

from django.db import migrations

TABLES = ("billing_journalentry", "billing_journalline", "billing_closing")

CREATE_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION billing_refuse_change_to_the_accounts() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the accounts are immutable: %% on %% refused; post a reversing entry',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
""",
    """
CREATE OR REPLACE FUNCTION billing_check_journal_entry_balanced() RETURNS trigger AS $$
DECLARE
    checked bigint;
    line_position integer := 0;
    seen text;
    expected_amount numeric;
    expected_lines integer;
    debits numeric;
    credits numeric;
    found integer;
    last_position integer;
BEGIN
    IF TG_TABLE_NAME = 'billing_journalentry' THEN
        checked := NEW.id;
    ELSE
        checked := NEW.entry_id;
        line_position := NEW.position;
    END IF;
    -- An entry and its lines fire once each; the first check covers them all. A line added
    -- after that check has a later position (positions are unique) and is checked again.
    seen := current_setting('billing.balanced_entry', true);
    IF coalesce(seen, '') <> '' AND split_part(seen, ':', 1) = checked::text THEN
        IF line_position <= split_part(seen, ':', 2)::integer THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT e.amount, e.line_count, coalesce(sum(l.debit), 0), coalesce(sum(l.credit), 0),
           count(l.id), coalesce(max(l.position), 0)
      INTO expected_amount, expected_lines, debits, credits, found, last_position
      FROM billing_journalentry e LEFT JOIN billing_journalline l ON l.entry_id = e.id
     WHERE e.id = checked
     GROUP BY e.id;
    IF debits <> credits OR debits <> expected_amount OR found <> expected_lines THEN
        RAISE EXCEPTION
            'journal entry %% does not balance: debit %%, credit %%, amount %%, %% of %% lines',
            checked, debits, credits, expected_amount, found, expected_lines
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    PERFORM set_config('billing.balanced_entry', checked::text || ':' || last_position, true);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""",
]

CREATE_IMMUTABLE = """
CREATE TRIGGER {table}_immutable
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change_to_the_accounts();
"""

CREATE_BALANCED = """
CREATE CONSTRAINT TRIGGER {table}_balanced
    AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_check_journal_entry_balanced();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in CREATE_FUNCTIONS:
        schema_editor.execute(statement)
    for table in TABLES:
        schema_editor.execute(CREATE_IMMUTABLE.format(table=table))
    for table in ("billing_journalentry", "billing_journalline"):
        schema_editor.execute(CREATE_BALANCED.format(table=table))


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in ("billing_journalentry", "billing_journalline"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_balanced ON {table}")
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_check_journal_entry_balanced()")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_refuse_change_to_the_accounts()")


class Migration(migrations.Migration):
    dependencies = [("billing", "0007_accounts_journal_and_closings")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
