"""Members: a user, a plan and the billing identity printed on invoices.

The billing identity is copied onto each invoice when it is issued: changing it here changes
the invoices issued from then on, never those already issued.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from core import transactions
from core.errors import ConflictError, DomainError
from fleet.models import Member

_PLAN: Final = re.compile(r"[-a-zA-Z0-9_]{1,40}", re.ASCII)


class UsernameTaken(ConflictError):
    """The username belongs to another account."""

    code = "username_taken"


class WeakPassword(DomainError):
    """Django's password validators refused the password."""

    code = "weak_password"


class InvalidMember(DomainError):
    """A plan that is not a slug, or a blank billing name or address; ``details["field"]``."""

    code = "invalid_member"


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
        InvalidMember: the plan is not a slug, or the billing name or address is blank.
    """
    _check_profile(plan=plan, billing_name=billing_name, billing_address=billing_address)
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


@transactions.use_case
def change_member(*, member_id: int, plan: str, billing_name: str, billing_address: str) -> Member:
    """Change a member's plan and billing identity (for the invoices issued from now on).

    Raises:
        InvalidMember: the plan is not a slug, or the billing name or address is blank.
        Member.DoesNotExist: no member has that id.
    """
    _check_profile(plan=plan, billing_name=billing_name, billing_address=billing_address)
    member = Member.objects.select_for_update().get(pk=member_id)
    member.plan = plan
    member.billing_name = billing_name
    member.billing_address = billing_address
    member.save(update_fields=["plan", "billing_name", "billing_address"])
    return member


def _check_profile(*, plan: str, billing_name: str, billing_address: str) -> None:
    if _PLAN.fullmatch(plan) is None:
        raise InvalidMember("plan is 1 to 40 letters, digits, dashes or underscores.", field="plan")
    if not billing_name.strip() or len(billing_name) > 200:
        raise InvalidMember("billing_name is 1 to 200 characters.", field="billing_name")
    if not billing_address.strip():
        raise InvalidMember("billing_address must not be blank.", field="billing_address")
