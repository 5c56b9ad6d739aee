"""Insert many new rows of one model at once, at the speed of PostgreSQL's COPY.

``bulk_create`` spends most of a large insert preparing each value in Python; ``COPY ...
FROM STDIN`` streams the rows as they are. The rows' primary keys are taken first from the
table's own sequence (one statement for all of them), so that the caller knows them, as
after ``bulk_create``. Constraints and row triggers apply to COPY as to any insert. Small
batches (and other databases) go through ``bulk_create``: one ``INSERT ... RETURNING``
round trip is cheaper than two.

``reserve_keys`` takes primary keys before the rows exist, so that what refers to a row (a
foreign key, deferred to commit; a job's argument) can be written before the row itself.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models

from core import transactions

#: From this many rows on, COPY is worth its extra round trip.
COPY_FROM = 50

M = TypeVar("M", bound=models.Model)


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
    fields = list(meta.concrete_fields)
    keyless = [obj for obj in objs if obj.pk is None]
    if keyless:
        for obj, key in zip(keyless, reserve_keys(model, len(keyless)), strict=True):
            obj.pk = key
    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        values = operator.attrgetter(*(field.attname for field in fields))
        as_json = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
        encoded: dict[Any, str] = {}
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                row = list(values(obj))
                for i in as_json:
                    row[i] = _json(row[i], encoded)
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def reserve_keys(model: type[models.Model], count: int) -> list[int]:
    """Take ``count`` keys of ``model``'s table for rows inserted later; join the transaction.

    PostgreSQL takes them from the table's sequence (one statement; a rollback wastes them,
    as any insert's would: keys are not document numbers). SQLite, whose transactions hold
    the write lock from their start (``transaction_mode`` IMMEDIATE), moves the table's
    AUTOINCREMENT counter, which a rollback puts back.

    Raises:
        RuntimeError: outside a transaction.
        ValueError: ``count`` is not positive.
    """
    transactions.require_transaction("reserve keys")
    if count < 1:
        raise ValueError(f"cannot reserve {count} keys")
    meta = model._meta
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            return [key for (key,) in cursor.fetchall()]
        # The counter row appears with the table's first insert; the largest key is the
        # floor either way.
        quote = connection.ops.quote_name
        cursor.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"  # noqa: S608
            f" coalesce((SELECT max({quote(meta.pk.column)}) FROM {quote(meta.db_table)}), 0))",
            [meta.db_table],
        )
        (last,) = cursor.fetchone()
        cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [meta.db_table])
        cursor.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [meta.db_table, last + count]
        )
    return list(range(last + 1, last + count + 1))


def new(model: type[M], **values: Any) -> M:
    """Return a new, unsaved ``model`` instance: ``model(**values)``, faster for a batch.

    Django's positional constructor, with every concrete field in order (missing ones get
    their default), skips the keyword bookkeeping that dominates building thousands of rows.
    """
    fields = model._meta.concrete_fields
    return model(
        *[values.pop(f.attname) if f.attname in values else f.get_default() for f in fields]
    )


def _json(value: Any, encoded: dict[Any, str]) -> str | None:
    """Return ``value`` as JSON text for COPY; the same small dict is encoded once."""
    if value is None:
        return None
    try:
        # Types in the key: True == 1, but they are not the same JSON.
        key = (
            tuple((name, type(item), item) for name, item in value.items())
            if isinstance(value, dict)
            else None
        )
        hash(key)
    except TypeError:
        key = None
    if key is None:
        return json.dumps(value)
    if key not in encoded:
        encoded[key] = json.dumps(value)
    return encoded[key]
