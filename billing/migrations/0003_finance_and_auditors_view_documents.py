"""Finance and auditors may view invoices, their lines and credit notes in the admin.

Staff see nothing in the admin without Django permissions, whatever their group; the issued
documents stay read-only for everyone (billing.admin), so "view" is the only one granted.
The groups are created here if missing so that billing does not depend on fleet's migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ("finance", "auditor")
PERMISSIONS = ("view_invoice", "view_invoiceline", "view_creditnote")


def _permissions(apps, schema_editor):
    # Permissions are made by post_migrate, after every migration: make them now.
    app_config = apps.get_app_config("billing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    return permission_model.objects.filter(
        content_type__app_label="billing", codename__in=PERMISSIONS
    )


def grant(apps, schema_editor):
    permissions = list(_permissions(apps, schema_editor))
    group_model = apps.get_model("auth", "Group")
    for name in GROUPS:
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    permissions = list(_permissions(apps, schema_editor))
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_issued_documents_are_immutable"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
