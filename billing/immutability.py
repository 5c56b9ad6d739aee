"""Issued documents cannot change: the ORM refuses here, PostgreSQL refuses in a trigger.

``QuerySet.update()``, ``bulk_update()`` and raw SQL skip ``save()``, so the
database trigger created by migration ``0002_issued_documents_are_immutable`` is the real
guard; this module makes the ORM and the admin fail early with a clear message.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from core.errors import DomainError


class ImmutableDocument(DomainError):
    code = "document_immutable"


def _refuse(what: str) -> NoReturn:
    raise ImmutableDocument(
        f"Issued documents are immutable: cannot {what}. Issue a credit note instead."
    )


class IssuedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def update(self, **kwargs: Any) -> int:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        _refuse("update")


class IssuedDocument(models.Model):
    """Abstract base: rows are inserted once and never saved or deleted again."""

    objects = IssuedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("save an issued document again")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")
