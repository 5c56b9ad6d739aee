"""PostgreSQL refuses to edit or delete a fee of the catalogue once a member was charged it.

Publish a new version with a later valid_from instead, as for tariffs. Lives in rentals
because it is a member charge that makes a fee "used" (imports point rentals -> fleet).
"""

from django.db import migrations

STATEMENTS = [
    """
CREATE OR REPLACE FUNCTION rentals_refuse_change_to_charged_fee() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM rentals_memberchargeline WHERE fee_id = OLD.id) THEN
        RAISE EXCEPTION 'fee %% has been charged: publish a new version instead', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER fleet_fee_charged_is_frozen
    BEFORE UPDATE OR DELETE ON fleet_fee
    FOR EACH ROW EXECUTE FUNCTION rentals_refuse_change_to_charged_fee()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS fleet_fee_charged_is_frozen ON fleet_fee",
    "DROP FUNCTION IF EXISTS rentals_refuse_change_to_charged_fee()",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in STATEMENTS:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("rentals", "0005_member_charges_keep_their_lines")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
