"""The query strings of the fleet's lists (vehicles, tariffs, fees, passes), checked in full."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from api.filters import StrictBooleanFilter
from fleet.models import Fee, PassProduct, Tariff, Vehicle


class VehicleFilter(filters.FilterSet):
    """``GET /api/vehicles/``: by zone code, status, and availability (``true``/``false``)."""

    zone = filters.CharFilter(field_name="zone__code", max_length=40)
    available = StrictBooleanFilter(method="filter_available")

    class Meta:
        model = Vehicle
        fields = ["zone", "status", "available"]

    def filter_available(
        self, queryset: QuerySet[Vehicle], name: str, value: bool
    ) -> QuerySet[Vehicle]:
        # In service and in no open rental (the reverse relation, so fleet imports no rentals).
        available = Q(status=Vehicle.Status.AVAILABLE) & ~Q(rentals__status="OPEN")
        return queryset.filter(available) if value else queryset.exclude(available)


class TariffFilter(filters.FilterSet):
    """``GET /api/tariffs/``: by plan."""

    plan = filters.CharFilter(field_name="plan", max_length=40)

    class Meta:
        model = Tariff
        fields = ["plan"]


class FeeFilter(filters.FilterSet):
    """``GET /api/fees/``: by zone code and fee code."""

    zone = filters.CharFilter(field_name="zone__code", max_length=40)
    code = filters.CharFilter(field_name="code", max_length=40)

    class Meta:
        model = Fee
        fields = ["zone", "code"]


class PassFilter(filters.FilterSet):
    """``GET /api/passes/``: by zone code, and whether on sale (``true``/``false``)."""

    zone = filters.CharFilter(field_name="zone__code", max_length=40)
    on_sale = StrictBooleanFilter(field_name="on_sale")

    class Meta:
        model = PassProduct
        fields = ["zone", "on_sale"]
