"""Fleet staff's admin: every add and change is a use case of ``fleet`` (as in the API).

Zones are created by ``zones.create_zone`` and changed by ``zones.change_zone``; vehicles
by ``vehicles.register_vehicle`` / ``change_vehicle``; members by
``members.register_member`` / ``change_member``; tariffs, with their bands, by
``tariffs.publish_tariff``, and never changed afterwards. Nothing is deleted here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from billing import display
from core import clock, localtime
from fleet import members, tariffs, vehicles, zones
from fleet.admin_use_cases import UseCaseAdmin, UseCaseForm, become
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
class ZoneAdmin(UseCaseAdmin):
    list_display = ["code", "name", "time_zone", "currency", "vat_percent", "invoice_prefix"]
    search_fields = ["code", "name"]
    fields = [
        "code", "name", "time_zone", "currency", "vat_rate", "invoice_prefix", "yearly_series",
    ]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Zone | None = None) -> list[str]:
        # Once a tariff prices in it, a zone's clock, money and series are history.
        if obj is not None and obj.tariffs.exists():
            return list(zones.FROZEN_ONCE_USED)
        return []

    @admin.display(description="VAT rate", ordering="vat_rate")
    def vat_percent(self, obj: Zone) -> str:
        return display.percent(obj.vat_rate)

    def write(self, request: HttpRequest, form: Any, obj: Zone, change: bool) -> models.Model:
        values = {field: getattr(obj, field) for field in self.fields}
        if change:
            return zones.change_zone(zone_id=obj.pk, **values)
        return zones.create_zone(**values, now=clock.now())


class VehicleForm(UseCaseForm):
    # Sent to the use case as typed: its rule decides (and upper-cases), as for the API.
    plate = forms.CharField(
        max_length=vehicles.PLATE_MAX_LENGTH,
        strip=False,
        help_text="Letters and digits in groups split by one dash or space, e.g. AB-123-CD.",
    )

    class Meta:
        model = Vehicle
        fields = ["plate", "zone", "status"]


@admin.register(Vehicle)
class VehicleAdmin(UseCaseAdmin):
    form = VehicleForm
    list_display = ["plate", "zone", "status"]
    list_filter = ["zone", "status"]
    search_fields = ["plate"]
    fields = ["plate", "zone", "status"]

    def get_readonly_fields(self, request: HttpRequest, obj: Vehicle | None = None) -> list[str]:
        return ["plate"] if obj is not None else []

    def write(self, request: HttpRequest, form: Any, obj: Vehicle, change: bool) -> models.Model:
        if change:
            return vehicles.change_vehicle(vehicle_id=obj.pk, zone=obj.zone, status=obj.status)
        return vehicles.register_vehicle(
            plate=obj.plate, zone=obj.zone, status=obj.status, now=clock.now()
        )


class WallClockField(forms.SplitDateTimeField):
    """A date and a time as read on a wall clock (naive): the form places it in a zone."""

    widget = AdminSplitDateTime

    def compress(self, data_list: list[Any]) -> datetime | None:
        if not data_list:
            return None
        day, time_of_day = data_list
        if day in self.empty_values:
            raise ValidationError(self.error_messages["invalid_date"], code="invalid_date")
        if time_of_day in self.empty_values:
            raise ValidationError(self.error_messages["invalid_time"], code="invalid_time")
        return datetime.combine(day, time_of_day)


class TariffForm(UseCaseForm):
    valid_from = WallClockField(
        label="Valid from",
        help_text="Wall-clock time in the zone (00:00 on 1 January in Paris is +01:00).",
    )

    class Meta:
        model = Tariff
        fields = [
            "zone", "plan", "valid_from", "unlock_fee", "minimum_minutes", "daily_cap",
            "park_per_minute", "per_km", "included_km",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        zone, wall_clock = cleaned.get("zone"), cleaned.get("valid_from")
        if zone is not None and wall_clock is not None:
            try:
                localtime.load_time_zone(zone.time_zone)
                cleaned["valid_from"] = localtime.resolve_wall_time(wall_clock, zone.time_zone)
            except localtime.UnknownTimeZone as exc:
                self.add_error("zone", exc.message)
            except (localtime.NonexistentLocalTime, localtime.AmbiguousLocalTime) as exc:
                self.add_error("valid_from", exc.message)
        return cleaned


class BandForm(forms.ModelForm):
    # Minutes only, as in the API: a start with seconds would print ambiguously on invoices.
    starts_at = forms.TimeField(
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M"),
        help_text="HH:MM, wall-clock time in the zone.",
    )

    class Meta:
        model = TariffBand
        fields = ["starts_at", "per_minute"]


class TariffBandInline(admin.TabularInline):
    model = TariffBand
    form = BandForm
    verbose_name_plural = "bands (in increasing order; the last also covers the night's start)"

    def get_extra(self, request: HttpRequest, obj: Tariff | None = None, **kwargs: Any) -> int:
        return 2 if obj is None else 0

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


NEVER_EDITED = (
    "A tariff is never edited once published: invoices are priced from it. To change prices,"
    " publish a new tariff for this zone and plan with a later valid from; it applies to"
    " rentals that start from then on."
)


@admin.register(Tariff)
class TariffAdmin(UseCaseAdmin):
    """Tariffs are published with their bands (``publish_tariff``) and then only viewed."""

    form = TariffForm
    list_display = ["zone", "plan", "valid_from_local", "fee", "cap", "band_list"]
    list_filter = ["zone", "plan"]
    inlines = [TariffBandInline]
    view_fields = [
        "zone", "plan", "valid_from_local", "fee", "minimum_minutes", "cap", "band_list",
        "parked", "distance", "published",
    ]  # fmt: skip

    def get_fieldsets(self, request: HttpRequest, obj: Tariff | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": TariffForm.Meta.fields})]
        publish_next = reverse("admin:fleet_tariff_add") + f"?zone={obj.zone_id}&plan={obj.plan}"
        description = format_html(
            '{} <a href="{}">Publish a new tariff for {} / {}</a>.',
            NEVER_EDITED,
            publish_next,
            obj.zone,
            obj.plan,
        )
        return [(None, {"fields": self.view_fields, "description": description})]

    def get_readonly_fields(self, request: HttpRequest, obj: Tariff | None = None) -> list[str]:
        return [] if obj is None else self.view_fields

    def get_inline_instances(self, request: HttpRequest, obj: Tariff | None = None) -> Any:
        # Bands are entered with the tariff; a published tariff lists them (band_list).
        return super().get_inline_instances(request, obj) if obj is None else []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="valid from (local)", ordering="valid_from")
    def valid_from_local(self, obj: Tariff) -> str:
        return display.local_time(obj.valid_from, obj.zone.time_zone)

    @admin.display(description="published")
    def published(self, obj: Tariff) -> str:
        return display.utc_time(obj.created_at)

    @admin.display(description="unlock fee")
    def fee(self, obj: Tariff) -> str:
        return display.rate(obj.unlock_fee, obj.zone.currency)

    @admin.display(description="daily cap")
    def cap(self, obj: Tariff) -> str:
        return display.rate(obj.daily_cap, obj.zone.currency)

    @admin.display(description="parked minutes")
    def parked(self, obj: Tariff) -> str:
        if obj.park_per_minute is None:
            return "as driving minutes"
        return f"{display.rate(obj.park_per_minute, obj.zone.currency)} per minute"

    @admin.display(description="distance")
    def distance(self, obj: Tariff) -> str:
        per_km = display.rate(obj.per_km, obj.zone.currency)
        return f"{per_km} per km beyond {obj.included_km} km"

    @admin.display(description="bands (start: per minute)")
    def band_list(self, obj: Tariff) -> str:
        bands = sorted(obj.bands.all(), key=lambda band: band.starts_at)
        currency = obj.zone.currency
        return ", ".join(
            f"{band.starts_at:%H:%M}: {display.rate(band.per_minute, currency)}" for band in bands
        )

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("zone").prefetch_related("bands")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Store nothing yet: the tariff is published with its bands, in ``save_related``."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        (band_formset,) = formsets
        bands = [
            (band.cleaned_data["starts_at"], band.cleaned_data["per_minute"])
            for band in band_formset.forms
            if band.has_changed() and band.cleaned_data
        ]
        data = form.cleaned_data
        with self.refusals(request):
            tariff = tariffs.publish_tariff(
                zone=data["zone"],
                plan=data["plan"],
                valid_from=data["valid_from"],
                bands=bands,
                unlock_fee=data["unlock_fee"],
                minimum_minutes=data["minimum_minutes"],
                daily_cap=data["daily_cap"],
                park_per_minute=data["park_per_minute"],
                per_km=data["per_km"],
                included_km=data["included_km"],
                now=clock.now(),
            )
        become(form.instance, tariff)
        # What the admin's history records as added with it.
        band_formset.new_objects = list(tariff.bands.order_by("starts_at"))
        band_formset.changed_objects, band_formset.deleted_objects = [], []


class MemberAddForm(UseCaseForm):
    username = forms.CharField(max_length=150)
    password = forms.CharField(
        widget=forms.PasswordInput, strip=False, help_text="Checked by the password rules."
    )

    class Meta:
        model = Member
        fields = ["username", "password", "plan", "billing_name", "billing_address"]


@admin.register(Member)
class MemberAdmin(UseCaseAdmin):
    list_display = ["user", "plan", "billing_name"]
    list_filter = ["plan"]
    search_fields = ["user__username", "billing_name"]

    def get_fields(self, request: HttpRequest, obj: Member | None = None) -> list[str]:
        if obj is None:
            return list(MemberAddForm.Meta.fields)
        return ["username", "plan", "billing_name", "billing_address"]

    def get_readonly_fields(self, request: HttpRequest, obj: Member | None = None) -> list[str]:
        return [] if obj is None else ["username"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = MemberAddForm
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="username")
    def username(self, obj: Member) -> str:
        return obj.user.get_username()

    def write(self, request: HttpRequest, form: Any, obj: Member, change: bool) -> models.Model:
        profile = {
            "plan": obj.plan,
            "billing_name": obj.billing_name,
            "billing_address": obj.billing_address,
        }
        if change:
            return members.change_member(member_id=obj.pk, **profile)
        return members.register_member(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            **profile,
            now=clock.now(),
        )


class ShownOnlyAdmin(admin.ModelAdmin):
    """Shown here, written only through the use cases (``POST /api/fees/``, ``/api/passes/``):
    the admin would otherwise store what their validation refuses."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Fee)
class FeeAdmin(ShownOnlyAdmin):
    """The fee catalogue, versioned by ``valid_from``: publish a new version to change a fee."""

    list_display = ["code", "zone", "label", "unit_price", "unit", "vat", "valid_from"]
    list_filter = ["zone", "vat", "pass_through"]
    search_fields = ["code", "label"]


@admin.register(PassProduct)
class PassProductAdmin(ShownOnlyAdmin):
    """Monthly passes on sale: a new price is a new product."""

    list_display = ["code", "zone", "label", "monthly_price", "plan", "on_sale"]
    list_filter = ["zone", "on_sale"]


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
