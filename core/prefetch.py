"""Tell Django what a use case already holds, so that reading it back costs no query.

A use case that has just written a row knows its related rows exactly: the lines it
inserted, the credit notes a new invoice cannot have yet, the stored file a new document
has not. Filling the same caches ``prefetch_related`` and ``select_related`` fill lets the
view serialize the returned object as it is, instead of reading it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model


def prime(instance: Model, relation: str, objects: Iterable[Model]) -> None:
    """Cache ``objects`` as everything behind the reverse foreign key ``relation``.

    Afterwards ``instance.<relation>.all()`` answers from memory, as after
    ``prefetch_related(relation)``; a write through the manager clears it as usual.
    """
    manager: Any = getattr(instance, relation)
    queryset = manager.get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset


def prime_none(instance: Model, relation: str) -> None:
    """Cache that the reverse one-to-one ``relation`` has no row, as ``select_related`` would.

    Reading ``instance.<relation>`` then raises its ``DoesNotExist`` without a query.
    """
    descriptor: Any = getattr(type(instance), relation)
    descriptor.related.set_cached_value(instance, None)
