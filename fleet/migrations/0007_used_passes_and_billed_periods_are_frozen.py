"""PostgreSQL refuses to change a pass product a member subscribed to (but for taking it
off sale), and to change or delete a billed subscription period.

A new price or plan is a new product: subscribers keep what they subscribed to. A period
row exists because its invoice was issued in the same transaction; it is that invoice's
subject, so changing it would re-bill or un-bill a period. The ORM is not the guard here:
``QuerySet.update()`` and raw SQL skip it; these triggers do not.
"""

from django.db import migrations

STATEMENTS = [
    """
CREATE OR REPLACE FUNCTION fleet_refuse_change_to_subscribed_pass() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM fleet_subscription WHERE product_id = OLD.id) THEN
        IF TG_OP = 'DELETE' OR (NEW.zone_id, NEW.code, NEW.label, NEW.monthly_price,
                NEW.plan, NEW.created_at) IS DISTINCT FROM (OLD.zone_id, OLD.code,
                OLD.label, OLD.monthly_price, OLD.plan, OLD.created_at) THEN
            RAISE EXCEPTION 'pass %% has subscribers: publish a new pass instead', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE OR REPLACE FUNCTION fleet_refuse_change_to_billed_period() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'subscription period %% is billed: %% refused', OLD.id, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER fleet_passproduct_subscribed_is_frozen
    BEFORE UPDATE OR DELETE ON fleet_passproduct
    FOR EACH ROW EXECUTE FUNCTION fleet_refuse_change_to_subscribed_pass()
""",
    """
CREATE TRIGGER fleet_subscriptionperiod_billed_is_frozen
    BEFORE UPDATE OR DELETE ON fleet_subscriptionperiod
    FOR EACH ROW EXECUTE FUNCTION fleet_refuse_change_to_billed_period()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS fleet_passproduct_subscribed_is_frozen ON fleet_passproduct",
    "DROP TRIGGER IF EXISTS fleet_subscriptionperiod_billed_is_frozen ON fleet_subscriptionperiod",
    "DROP FUNCTION IF EXISTS fleet_refuse_change_to_subscribed_pass()",
    "DROP FUNCTION IF EXISTS fleet_refuse_change_to_billed_period()",
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
    dependencies = [("fleet", "0006_fee_catalogue_and_monthly_passes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
