"""Finance registers endpoints and watches deliveries; failed ones can be sent again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.errors import DomainError
from webhooks import endpoints
from webhooks.models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Added through the same use case as the API (URL and address checks included)."""

    list_display = ["id", "url", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["url", "events", "description", "is_active", "secret", "created_at"]
    readonly_fields = ["secret", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None:
            return ["url", "events", "secret", "created_at"]
        return ["secret", "created_at"]

    def save_model(self, request: HttpRequest, obj: Endpoint, form: Any, change: bool) -> None:
        if change:
            if not obj.is_active:
                endpoints.deactivate_endpoint(endpoint_id=obj.pk)
            return
        try:
            created = endpoints.register_endpoint(
                url=obj.url,
                event_types=list(obj.events or []),
                secret="",
                description=obj.description,
                created_by_id=request.user.pk,
                now=timezone.now(),
            )
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        obj.pk = created.pk
        obj.secret = created.secret


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "endpoint", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event__type", "endpoint"]
    search_fields = ["event__id"]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send the selected deliveries again")
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        sent = 0
        for delivery in queryset.exclude(status=Delivery.Status.DELIVERED):
            endpoints.resend_delivery(delivery_id=delivery.pk)
            sent += 1
        self.message_user(request, f"{sent} deliveries sent again.", messages.SUCCESS)
