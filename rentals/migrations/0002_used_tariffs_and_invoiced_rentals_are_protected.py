"""PostgreSQL refuses to edit a tariff a rental used (its bands included: no band added,
changed or removed), or to delete an invoiced rental.

Tariffs: publish a new one with a later valid_from instead (API.md, "Fleet"). Lives in
rentals because it is the rentals that make a tariff "used" (imports point rentals -> fleet).
"""

from django.db import migrations

STATEMENTS = [
    """
CREATE OR REPLACE FUNCTION rentals_refuse_change_to_used_tariff() RETURNS trigger AS $$
DECLARE
    used_tariff bigint;
BEGIN
    IF TG_TABLE_NAME = 'fleet_tariff' THEN
        used_tariff := OLD.id;
    ELSIF TG_OP = 'INSERT' THEN
        used_tariff := NEW.tariff_id;
    ELSE
        used_tariff := OLD.tariff_id;
    END IF;
    IF EXISTS (SELECT 1 FROM rentals_rental WHERE tariff_id = used_tariff) THEN
        RAISE EXCEPTION 'tariff %% has been used by a rental: publish a new one instead',
            used_tariff USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE OR REPLACE FUNCTION rentals_refuse_delete_of_invoiced_rental() RETURNS trigger AS $$
BEGIN
    IF OLD.invoice_id IS NOT NULL THEN
        RAISE EXCEPTION 'rental %% is invoiced and cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER fleet_tariff_used_is_frozen
    BEFORE UPDATE OR DELETE ON fleet_tariff
    FOR EACH ROW EXECUTE FUNCTION rentals_refuse_change_to_used_tariff()
""",
    """
CREATE TRIGGER fleet_tariffband_used_is_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON fleet_tariffband
    FOR EACH ROW EXECUTE FUNCTION rentals_refuse_change_to_used_tariff()
""",
    """
CREATE TRIGGER rentals_rental_invoiced_is_kept
    BEFORE DELETE ON rentals_rental
    FOR EACH ROW EXECUTE FUNCTION rentals_refuse_delete_of_invoiced_rental()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS fleet_tariff_used_is_frozen ON fleet_tariff",
    "DROP TRIGGER IF EXISTS fleet_tariffband_used_is_frozen ON fleet_tariffband",
    "DROP TRIGGER IF EXISTS rentals_rental_invoiced_is_kept ON rentals_rental",
    "DROP FUNCTION IF EXISTS rentals_refuse_change_to_used_tariff()",
    "DROP FUNCTION IF EXISTS rentals_refuse_delete_of_invoiced_rental()",
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
    dependencies = [("rentals", "0001_initial"), ("fleet", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
