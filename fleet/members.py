"""Members: a user, a plan and the billing identity printed on invoices.

A business customer gives its company name and SIREN (and, if it has one, its VAT number),
validated with python-stdnum: its invoices carry them (e-invoicing needs the buyer's SIREN).

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
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat
from stdnum.fr import siren as siren_number

from billing import invoicing
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


class InvalidBusinessIdentity(DomainError):
    """A SIREN or VAT number that is not one, or a SIREN without a company name."""

    code = "invalid_business_identity"


def business_identity(*, company_name: str, siren: str, vat_id: str) -> tuple[str, str, str]:
    """Return the company name, SIREN and VAT number in their compact forms, validated.

    Raises:
        InvalidBusinessIdentity: an invalid SIREN (Luhn key) or VAT number, a VAT number
            without a SIREN, or a SIREN without a company name.
    """
    company_name, siren, vat_id = company_name.strip(), siren.strip(), vat_id.strip()
    if not siren:
        if vat_id or company_name:
            raise InvalidBusinessIdentity(
                "A business customer needs its SIREN beside its name and VAT number.",
                field="siren",
            )
        return "", "", ""
    if not company_name:
        raise InvalidBusinessIdentity("A SIREN needs its company name.", field="company_name")
    try:
        siren = siren_number.validate(siren)
    except stdnum_errors.ValidationError as exc:
        raise InvalidBusinessIdentity(f"Not a SIREN: {exc}", field="siren") from exc
    if vat_id:
        try:
            vat_id = vat.validate(vat_id)
        except stdnum_errors.ValidationError as exc:
            raise InvalidBusinessIdentity(f"Not a VAT number: {exc}", field="vat_id") from exc
        if vat_id.startswith("FR") and vat_id[4:] != siren:
            raise InvalidBusinessIdentity(
                "The French VAT number is not the SIREN's.", field="vat_id"
            )
    return company_name, siren, vat_id


def billing_identity(member: Member) -> invoicing.BillingIdentity:
    """Return who an invoice of ``member`` bills, as billing snapshots it."""
    return invoicing.BillingIdentity(
        member_id=member.user_id,
        billing_name=member.billing_name,
        billing_address=member.billing_address,
        company_name=member.company_name,
        siren=member.siren,
        vat_id=member.vat_id,
    )


@transactions.use_case
def register_member(
    *,
    username: str,
    password: str,
    plan: str,
    billing_name: str,
    billing_address: str,
    now: datetime,
    email: str = "",
    company_name: str = "",
    siren: str = "",
    vat_id: str = "",
) -> Member:
    """Create a user and its member profile (a business customer with a company and SIREN).

    Raises:
        UsernameTaken: the username is in use.
        WeakPassword: Django's password validators refused the password.
        InvalidBusinessIdentity: the SIREN or VAT number is not valid.
        InvalidMember: the plan is not a slug, or the billing name or address is blank.
    """
    _check_profile(plan=plan, billing_name=billing_name, billing_address=billing_address)
    company_name, siren, vat_id = business_identity(
        company_name=company_name, siren=siren, vat_id=vat_id
    )
    user_model = get_user_model()
    try:
        validate_password(password, user=user_model(username=username))
    except DjangoValidationError as exc:
        raise WeakPassword(" ".join(exc.messages), field="password") from exc
    if user_model.objects.filter(username=username).exists():
        raise UsernameTaken(f"The username {username!r} is taken.", field="username")
    try:
        with transaction.atomic():  # a savepoint: the same username registered concurrently
            user = user_model.objects.create_user(username=username, password=password, email=email)
    except IntegrityError as exc:
        raise UsernameTaken(f"The username {username!r} is taken.", field="username") from exc
    return Member.objects.create(
        user=user,
        plan=plan,
        billing_name=billing_name,
        billing_address=billing_address,
        company_name=company_name,
        siren=siren,
        vat_id=vat_id,
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
