"""DRF permission classes for the roles of ``core.roles``; 401 comes before any role check."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core import roles


def require(*names: str) -> type[BasePermission]:
    """Return a DRF permission class admitting users holding any of the roles ``names``."""

    class RolePermission(BasePermission):
        message = f"This endpoint is for the role(s): {', '.join(names)}."

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated) and roles.has_role(
                request.user, *names
            )

    RolePermission.__name__ = "Require" + "Or".join(name.title() for name in names)
    return RolePermission


IsMember = require(roles.MEMBER)
IsFleet = require(roles.FLEET)
IsFinance = require(roles.FINANCE)
IsFinanceOrAuditor = require(roles.FINANCE, roles.AUDITOR)
IsMemberOrFinanceOrAuditor = require(roles.MEMBER, roles.FINANCE, roles.AUDITOR)
IsMemberOrFinance = require(roles.MEMBER, roles.FINANCE)
