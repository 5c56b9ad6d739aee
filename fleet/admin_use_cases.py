"""The admin as one more caller of the use cases: its forms are their input, their refusals its
form errors.

Django's admin saves a form with ``Model.save()`` inside a transaction of its own. Here a
save calls the use case instead (``write``), which validates, begins its own durable
transaction and stores; a ``DomainError`` it raises comes back on the same form, as an
error on the field it names, and nothing is stored. So the admin cannot keep a row the API
would refuse, nor refuse one the API would keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse

from core.errors import DomainError

_REFUSAL = "_use_case_refusal"


class _Refused(Exception):
    """The use case refused the admin's form; the form is shown again with the refusal."""


class UseCaseForm(forms.ModelForm):
    """A model form whose last check is the use case's refusal of the same input, if any."""

    refusal: ClassVar[DomainError | None] = None

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()
        if self.refusal is not None:
            field = self.refusal.details.get("field")
            self.add_error(field if field in self.fields else None, self.refusal.message)
        return cleaned


class UseCaseAdmin(admin.ModelAdmin):
    """Add and change through ``write`` (a use case); never delete (rows are referenced)."""

    form = UseCaseForm

    def write(
        self, request: HttpRequest, form: forms.ModelForm, obj: Any, change: bool
    ) -> models.Model:
        """Store the form's input through the use case and return the stored row.

        Raises:
            DomainError: the use case's refusal.
        """
        raise NotImplementedError

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Django wraps an admin POST in a transaction; a use case begins its own durable one,
        # which refuses to nest, so the admin's is not opened (ATOMIC_REQUESTS is off too).
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except _Refused:
            # Nothing was stored: validate the same POST again, now with the refusal as the
            # form's error, so that the page shows the input and what is wrong with it.
            return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form: type[forms.ModelForm] = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"refusal": refusal})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with self.refusals(request):
            stored = self.write(request, form, obj, change)
        become(obj, stored)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Write nothing more: the use case stored every row it needed."""

    @contextmanager
    def refusals(self, request: HttpRequest) -> Iterator[None]:
        """Turn the use case's refusal into the form error of the next validation."""
        try:
            yield
        except DomainError as exc:
            setattr(request, _REFUSAL, exc)
            raise _Refused from exc

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rentals and invoices point at these rows; retire a vehicle instead.
        return False


def become(obj: models.Model, stored: models.Model) -> None:
    """Make the admin's unsaved ``obj`` the row the use case stored (for its log and redirect)."""
    for field in stored._meta.concrete_fields:
        setattr(obj, field.attname, getattr(stored, field.attname))
    obj._state.adding = False
    obj._state.db = stored._state.db
