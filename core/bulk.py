"""Insert many new rows of one model at once, at the speed of PostgreSQL's COPY.

``bulk_create`` spends most of a large insert preparing each value in Python; ``COPY ...
FROM STDIN`` streams the rows as they are. The rows' primary keys are taken first from the
table's own sequence (one statement for all of them), so that the caller knows them, as
after ``bulk_create``. Constraints and row triggers apply to COPY as to any insert. Small
batches (and other databases) go through ``bulk_create``: one ``INSERT ... RETURNING``
round trip is cheaper than two.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from core import transactions

#: From this many rows on, COPY is worth its extra round trip.
COPY_FROM = 50


def insert(objs: Sequence[models.Model]) -> None:
    """Insert ``objs``, new rows of one model, setting their primary keys; join the transaction.

    Raises:
        RuntimeError: outside a transaction (the keys and the rows must commit together).
    """
    if not objs:
        return
    transactions.require_transaction("bulk insert")
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        for obj, key in zip(objs, keys, strict=True):
            obj.pk = key
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        names = [field.attname for field in fields]
        as_json = {field.attname for field in fields if isinstance(field, models.JSONField)}
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([_value(obj, name, name in as_json) for name in names])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _value(obj: models.Model, name: str, as_json: bool) -> Any:
    value = getattr(obj, name)
    return json.dumps(value) if as_json and value is not None else value
