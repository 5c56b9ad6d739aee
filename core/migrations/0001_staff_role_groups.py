"""The staff roles of core.roles are groups: fleet, finance, auditor.

They were first created by fleet's migration 0002, which stays in history; from here on the
app that defines the roles owns them. ``get_or_create`` makes both orders agree.
"""

from django.db import migrations

ROLES = ("fleet", "finance", "auditor")


def create_groups(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
