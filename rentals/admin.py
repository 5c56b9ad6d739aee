from django.contrib import admin

from billing.admin import ReadOnlyAdmin
from rentals.models import Rental


@admin.register(Rental)
class RentalAdmin(ReadOnlyAdmin):
    """Rentals change only through the use cases (start, end): read-only here."""

    list_display = ["id", "member", "vehicle", "status", "started_at", "ended_at"]
    list_filter = ["status", "vehicle__zone"]
    search_fields = ["vehicle__plate", "member__user__username"]
