"""Members: a user, a plan and the billing identity printed on invoices."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from core import transactions
from core.errors import ConflictError, DomainError
from fleet.models import Member


class UsernameTaken(ConflictError):
    """The username belongs to another account."""

    code = "username_taken"


class WeakPassword(DomainError):
    """Django's password validators refused the password."""

    code = "weak_password"


@transactions.use_case
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
    if user_model.objects.filter(username=username).exists():
        raise UsernameTaken(f"The username {username!r} is taken.", field="username")
    try:
        with transaction.atomic():  # a savepoint: the same username registered concurrently
            user = user_model.objects.create_user(username=username, password=password)
    except IntegrityError as exc:
        raise UsernameTaken(f"The username {username!r} is taken.", field="username") from exc
    return Member.objects.create(
        user=user,
        plan=plan,
        billing_name=billing_name,
        billing_address=billing_address,
        created_at=now,
    )
