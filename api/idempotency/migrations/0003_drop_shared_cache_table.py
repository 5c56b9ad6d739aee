"""Drop the database cache table of 0002: nothing shared lives in the cache any more.

The login throttle now counts failed logins in the ``api`` app's own table
(``api.LoginFailure``), and the default cache needs no table. Reversing recreates the table
as ``createcachetable`` would have (whatever CACHES says by then).
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "shared_cache"


def drop_cache_table(apps, schema_editor):
    quoted = schema_editor.quote_name(TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {quoted}")


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


class Migration(migrations.Migration):
    dependencies = [("idempotency", "0002_shared_cache_table")]

    operations = [migrations.RunPython(drop_cache_table, create_cache_table)]
