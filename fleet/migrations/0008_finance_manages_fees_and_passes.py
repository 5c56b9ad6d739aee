"""Finance may add, change and view fees and passes in the admin, and view subscriptions.

A fee or pass that has been used is shown read-only (fleet.admin) and PostgreSQL refuses
to change it; subscriptions and their billed periods change only through the use cases.
Deleting is not granted: charges, subscriptions and invoices point at these rows.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "finance"
PERMISSIONS = (
    *(
        f"{action}_{model}"
        for model in ("fee", "passproduct")
        for action in ("add", "change", "view")
    ),
    "view_subscription",
    "view_subscriptionperiod",
)


def _permissions(apps, schema_editor):
    # Permissions are made by post_migrate, after every migration: make them now.
    app_config = apps.get_app_config("fleet")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    return permission_model.objects.filter(
        content_type__app_label="fleet", codename__in=PERMISSIONS
    )


def grant(apps, schema_editor):
    permissions = list(_permissions(apps, schema_editor))
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    permissions = list(_permissions(apps, schema_editor))
    for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0007_used_passes_and_billed_periods_are_frozen"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
