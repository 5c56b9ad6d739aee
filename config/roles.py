"""Roles (API.md, "Conventions"): member, fleet, finance, auditor.

A member is a user with a member profile; fleet, finance and auditor are groups; a Django
superuser holds every staff role. Unauthenticated requests get 401 before any role check.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

MEMBER, FLEET, FINANCE, AUDITOR = "member", "fleet", "finance", "auditor"
STAFF_ROLES = (FLEET, FINANCE, AUDITOR)


def roles_of(user: Any) -> frozenset[str]:
    """Return the roles a user holds (cached on the user object for the request)."""
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_billing_roles", None)
    if cached is not None:
        return cached
    roles = set(user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
    if user.is_superuser:
        roles.update(STAFF_ROLES)
    if hasattr(user, "member"):
        roles.add(MEMBER)
    user._billing_roles = frozenset(roles)
    return user._billing_roles


def has_role(user: Any, *roles: str) -> bool:
    """Return whether the user holds any of ``roles``."""
    return bool(roles_of(user) & set(roles))


def require(*roles: str) -> type[BasePermission]:
    """Return a DRF permission class admitting users holding any of ``roles``."""

    class RolePermission(BasePermission):
        message = f"This endpoint is for the role(s): {', '.join(roles)}."

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated) and has_role(
                request.user, *roles
            )

    RolePermission.__name__ = "Require" + "Or".join(role.title() for role in roles)
    return RolePermission


IsMember = require(MEMBER)
IsFleet = require(FLEET)
IsFinance = require(FINANCE)
IsFinanceOrAuditor = require(FINANCE, AUDITOR)
IsMemberOrFinanceOrAuditor = require(MEMBER, FINANCE, AUDITOR)
