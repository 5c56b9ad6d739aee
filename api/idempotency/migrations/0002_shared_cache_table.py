"""The cache shared by every app server (token throttling) lives in the database too.

An in-process cache would let a password guesser multiply its allowance by the number of
workers and hosts; the database is the one engine every app server already shares.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("idempotency", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
