"""Members: a user, a plan and the billing identity printed on invoices."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError

from core.errors import ConflictError, DomainError
from core.transactions import run_in_transaction
from fleet.models import Member


class UsernameTaken(ConflictError):
    code = "username_taken"


class WeakPassword(DomainError):
    code = "weak_password"


def register_member(
    *,
    username: str,
    password: str,
    plan: str,
    billing_name: str,
    billing_address: str,
    now: datetime,
) -> Member:
    """Create a user and its member profile.

    Raises:
        UsernameTaken: the username is in use.
        WeakPassword: Django's password validators refused the password.
    """
    user_model = get_user_model()
    try:
        validate_password(password, user=user_model(username=username))
    except DjangoValidationError as exc:
        raise WeakPassword(" ".join(exc.messages), field="password") from exc

    def store() -> Member:
        if user_model.objects.filter(username=username).exists():
            raise UsernameTaken(f"The username {username!r} is taken.", field="username")
        user = user_model.objects.create_user(username=username, password=password)
        return Member.objects.create(
            user=user,
            plan=plan,
            billing_name=billing_name,
            billing_address=billing_address,
            created_at=now,
        )

    try:
        return run_in_transaction(store)
    except IntegrityError as exc:  # the same username registered concurrently
        raise UsernameTaken(f"The username {username!r} is taken.", field="username") from exc
