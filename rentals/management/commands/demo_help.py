"""Print the demo accounts, their tokens and one working curl example (used by `make run`)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rest_framework.authtoken.models import Token

from core.roles import roles_of


class Command(BaseCommand):
    help = "Print demo tokens and a curl example."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        self.stdout.write(
            f"\nCar-sharing billing API at {base_url}/api/ (docs: {base_url}/api/docs/)"
        )
        self.stdout.write("Demo accounts (username / token / roles):")
        for token in Token.objects.select_related("user").order_by("user_id"):
            roles = ", ".join(sorted(roles_of(token.user))) or "-"
            self.stdout.write(f"  {token.user.username:8} {token.key}  {roles}")
        member = Token.objects.filter(user__member__isnull=False).order_by("user_id").first()
        if member is not None:
            self.stdout.write("\nQuote 20 minutes in the demo car, as the demo member:")
            self.stdout.write(
                f"  curl -s -X POST {base_url}/api/quotes/ "
                f"-H 'Authorization: Token {member.key}' -H 'Content-Type: application/json' "
                """-d '{"vehicle": "AB-123-CD", "started_at": "2026-10-25T02:50:00+02:00", """
                """"ended_at": "2026-10-25T02:10:00+01:00"}'"""
            )
        self.stdout.write(f"\nAdmin: {base_url}/admin/ (admin / admin-demo-pass)\n")
