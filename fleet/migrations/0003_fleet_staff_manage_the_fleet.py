"""Fleet staff may add, change and view zones, vehicles, tariffs and members in the admin.

Deleting is not granted: rentals and invoices point at these rows (PROTECT), and a tariff a
rental used is never edited (fleet.admin shows it read-only); retire a vehicle instead.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "fleet"
MODELS = ("zone", "vehicle", "tariff", "tariffband", "member")
PERMISSIONS = tuple(f"{action}_{model}" for model in MODELS for action in ("add", "change", "view"))


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
        ("fleet", "0002_staff_role_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
