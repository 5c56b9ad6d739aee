"""Finance and auditors may view journal entries and closings in the admin; finance keeps
the chart of accounts (add and change), auditors read it.

Entries and closings stay read-only for everyone (billing.admin), as documents do.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ("view_journalentry", "view_journalline", "view_closing", "view_accountchart")
GRANTS = {
    "finance": (*VIEW, "add_accountchart", "change_accountchart"),
    "auditor": VIEW,
}


def _permissions(apps, schema_editor, codenames):
    # Permissions are made by post_migrate, after every migration: make them now.
    app_config = apps.get_app_config("billing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    permission_model = apps.get_model("auth", "Permission")
    return list(
        permission_model.objects.filter(content_type__app_label="billing", codename__in=codenames)
    )


def grant(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, schema_editor, codenames))


def revoke(apps, schema_editor):
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GRANTS):
        group.permissions.remove(*_permissions(apps, schema_editor, GRANTS[group.name]))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_journal_and_closings_are_immutable"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
