"""Roles: member, fleet, finance, auditor (docs/reference/api.md, "Roles").

A member is a user with a member profile; fleet, finance and auditor are groups, created by
this app's migration; a Django superuser holds every staff role.
"""

from __future__ import annotations

from typing import Any

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
