from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rentals.models import Rental


@admin.register(Rental)
class RentalAdmin(admin.ModelAdmin):
    """Rentals change only through the use cases (start, end): read-only here."""

    list_display = ["id", "member", "vehicle", "status", "started_at", "ended_at"]
    list_filter = ["status", "vehicle__zone"]
    search_fields = ["vehicle__plate", "member__user__username"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
