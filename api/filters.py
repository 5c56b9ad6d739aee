"""Query-string filters: every value checked, every unknown parameter refused.

django-filter is lenient where a billing API must not be: ``?member=2.5`` filters on member 2,
``?member=99999999999999999999999`` overflows SQLite, ``?available=maybe`` and a misspelt
``?seires=PAR-2026`` are ignored, so the client silently gets every row. Here each of them is a
400 (DRF's field-error shape), and the schema types each filter as it is parsed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.settings import api_settings

#: Database ids: BigAutoField, positive.
LARGEST_ID = 2**63 - 1


class IdField(forms.Field):
    """A database id in a query string: ASCII digits only, 1 to 2**63 - 1."""

    default_error_messages = {
        "invalid": "Enter a whole number (digits only).",
        "range": f"Enter a number from 1 to {LARGEST_ID}.",
    }

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value)
        if not (text.isascii() and text.isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        number = int(text)
        if not 1 <= number <= LARGEST_ID:
            raise forms.ValidationError(self.error_messages["range"], code="range")
        return number


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": LARGEST_ID})
class IdFilter(filters.Filter):
    """Filter on a database id (e.g. ``?member=12``); typed ``integer`` in the schema."""

    field_class = IdField


class StrictBooleanField(forms.Field):
    """``true`` or ``false``; anything else is refused, not read as "no filter"."""

    default_error_messages = {"invalid": 'Enter "true" or "false".'}

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    """A boolean query parameter: ``true`` or ``false`` only."""

    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # django-filter's BooleanWidget reads anything but true/false as "no filter".
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class OffsetIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant that must carry its offset, turned to UTC.

    django-filter would read a naive value in the server's zone (a silent guess), and
    pass offsets beyond PostgreSQL's +-15:59 down to the database.
    """

    def to_python(self, value: object) -> datetime | None:
        if value in self.empty_values:
            return None
        try:
            parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        raise forms.ValidationError("Enter an ISO 8601 instant with an offset or Z.", "invalid")


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    """Filter on an instant given with its offset (``2026-01-01T00:00:00+01:00``)."""

    field_class = OffsetIsoDateTimeField


class StrictFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, refusing unknown and repeated query parameters."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        """Return the filtered queryset.

        Raises:
            ValidationError: a parameter is unknown, given twice, or has an invalid value.
        """
        filterset_class = self.get_filterset_class(view, queryset)
        known = {api_settings.URL_FORMAT_OVERRIDE}
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        paginator = getattr(view, "paginator", None)
        if paginator is not None and hasattr(paginator, "query_parameters"):
            known |= paginator.query_parameters()
        refuse_unknown_parameters(request, known)
        return super().filter_queryset(request, queryset, view)


def refuse_unknown_parameters(request: Request, known: set[str]) -> None:
    """Refuse query parameters outside ``known``, and any given more than once.

    Raises:
        ValidationError: ``{"<name>": ["Unknown query parameter."]}`` (or "Given twice.").
    """
    errors: dict[str, list[ErrorDetail]] = {}
    for name, values in request.query_params.lists():
        if name not in known:
            errors[name] = [ErrorDetail("Unknown query parameter.", code="unknown_field")]
        elif len(values) > 1:
            errors[name] = [ErrorDetail("Given more than once.", code="repeated_parameter")]
    if errors:
        raise ValidationError(errors)
