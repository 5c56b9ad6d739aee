"""Delete idempotency keys older than IDEMPOTENCY_KEEP_HOURS (run it daily from cron)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.idempotency.keys import purge_expired


class Command(BaseCommand):
    help = "Delete idempotency keys past their retention period (at least 24 hours)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired(now=timezone.now())
        self.stdout.write(f"deleted {deleted} idempotency key(s)")
