"""Delete failed logins past LOGIN_FAILURES_KEEP_HOURS (run it daily from cron)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.login_failures import purge_old_failures


class Command(BaseCommand):
    help = "Delete failed logins kept past their retention (never those still counted)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_old_failures(now=timezone.now())
        self.stdout.write(f"deleted {deleted} failed login(s)")
