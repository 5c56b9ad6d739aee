from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fleet.models import (
    Fee,
    Member,
    PassProduct,
    Subscription,
    SubscriptionPeriod,
    Tariff,
    TariffBand,
    Vehicle,
    Zone,
)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone", "currency", "vat_rate", "invoice_prefix"]
    search_fields = ["code", "name"]
    # Once a tariff prices in it, a zone's clock, money and series are history.
    frozen_once_used = ["code", "time_zone", "currency", "invoice_prefix", "yearly_series"]

    def get_readonly_fields(self, request: HttpRequest, obj: Zone | None = None) -> list[str]:
        if obj is not None and obj.tariffs.exists():
            return self.frozen_once_used
        return []


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate", "zone", "status"]
    list_filter = ["zone", "status"]
    search_fields = ["plate"]


class TariffBandInline(admin.TabularInline):
    model = TariffBand
    extra = 0


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    """A tariff a rental has used is shown read-only: publish a new one instead."""

    list_display = ["zone", "plan", "valid_from", "unlock_fee", "daily_cap"]
    list_filter = ["zone", "plan"]
    inlines = [TariffBandInline]

    def _used(self, obj: Tariff | None) -> bool:
        return obj is not None and obj.rentals.exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._used(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._used(obj) and super().has_delete_permission(request, obj)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "billing_name"]
    list_filter = ["plan"]
    search_fields = ["user__username", "billing_name"]


class FrozenOnceUsedAdmin(admin.ModelAdmin):
    """Added and corrected here until used; then read-only (the database refuses changes too)."""

    def used(self, obj: Any) -> bool:
        raise NotImplementedError

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and self.used(obj)) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and self.used(obj)) and super().has_delete_permission(
            request, obj
        )


@admin.register(Fee)
class FeeAdmin(FrozenOnceUsedAdmin):
    """A fee a member was charged is read-only: publish a new version instead."""

    list_display = ["code", "zone", "label", "unit_price", "unit", "vat", "valid_from"]
    list_filter = ["zone", "vat", "pass_through"]
    search_fields = ["code", "label"]

    def used(self, obj: Fee) -> bool:
        return obj.charge_lines.exists()


@admin.register(PassProduct)
class PassProductAdmin(FrozenOnceUsedAdmin):
    """A pass someone subscribed to is read-only: put a new one on sale instead."""

    list_display = ["code", "zone", "label", "monthly_price", "plan", "on_sale"]
    list_filter = ["zone", "on_sale"]

    def used(self, obj: PassProduct) -> bool:
        return obj.subscriptions.exists()


class SubscriptionPeriodInline(admin.TabularInline):
    model = SubscriptionPeriod
    extra = 0
    can_delete = False
    fields = readonly_fields = ["index", "starts_at", "ends_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Subscriptions change only through their use cases (subscribe, cancel, the runs)."""

    list_display = ["id", "member", "product", "start_date", "ends_at", "next_period_index"]
    list_filter = ["product__zone", "product"]
    search_fields = ["member__user__username", "member__billing_name"]
    inlines = [SubscriptionPeriodInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
