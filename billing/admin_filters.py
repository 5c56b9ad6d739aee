"""The finance admin's list filters: the issue period in local dates, and the member.

Django's date filters and date hierarchy read dates in the server's zone (UTC): an invoice
issued at 00:30 on 1 February in Paris would be listed in January. These read each
document's local dates in its own zone (``billing.periods``), like its search.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest

from billing import periods
from core import clock


class IssuedPeriodFilter(admin.ListFilter):
    """Quick periods (this month, last month...) and custom local dates ``[from, to)``."""

    title = "issue date (local)"
    template = "admin/billing/filters/issued_period.html"
    zone_at = "time_zone"

    def __init__(
        self, request: HttpRequest, params: dict[str, list[str]], model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        for name in periods.PARAMETERS:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]
        try:
            # The clock is read once, here at the edge, for the whole list.
            self.period = periods.parse(self.used_parameters, now=clock.now())
        except periods.InvalidPeriod as exc:
            raise IncorrectLookupParameters(exc.message) from exc
        # Kept for the custom dates' form: every other parameter of the list.
        self.other_parameters = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in periods.PARAMETERS and name != "p"
            for value in values
        ]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(periods.PARAMETERS)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.period.is_open:
            return queryset
        covering = self.period.covering(periods.document_time_zones(), zone_at=self.zone_at)
        return queryset.filter(covering)

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        every = list(periods.PARAMETERS)
        yield {
            "selected": self.period.is_open,
            "query_string": changelist.get_query_string(remove=every),
            "display": "Any date",
        }
        for quick, (label, _) in periods.QUICK.items():
            yield {
                "selected": self.period.quick == quick,
                "query_string": changelist.get_query_string({"period": quick}, remove=every),
                "display": label,
            }


class CreditNotePeriodFilter(IssuedPeriodFilter):
    """The issue period of credit notes, read in the zone of the invoice each one credits."""

    zone_at = "invoice__time_zone"


class MemberFilter(admin.SimpleListFilter):
    """One member's documents (the member's id, as in the API's ``?member=``)."""

    title = "member"
    parameter_name = "member"
    member_at = "member_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Only the member asked for: a list of every member would not fit a sidebar.
        value = self.value()
        return [(value, f"member {value}")] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            raise IncorrectLookupParameters(f"member {value!r} is not a member id")
        return queryset.filter(**{self.member_at: int(value)})


class CreditNoteMemberFilter(MemberFilter):
    member_at = "invoice__member_id"
