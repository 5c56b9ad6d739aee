"""Finance registers webhook endpoints and watches (and resends) deliveries in the admin.

Deliveries and events are shown, never edited there; endpoints are added through the same
use case as the API. The group is created here if missing, as billing's migration does.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "finance"
PERMISSIONS = (
    "view_endpoint",
    "add_endpoint",
    "change_endpoint",
    "view_event",
    "view_delivery",
)


def _permissions(apps, schema_editor):
    # Permissions are made by post_migrate, after every migration: make them now.
    app_config = apps.get_app_config("webhooks")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    return permission_model.objects.filter(
        content_type__app_label="webhooks", codename__in=PERMISSIONS
    )


def grant(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(*_permissions(apps, schema_editor))


def revoke(apps, schema_editor):
    permissions = list(_permissions(apps, schema_editor))
    for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
