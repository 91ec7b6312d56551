"""What the navigation offers the signed-in person (the policy decides, the template only shows)."""
from __future__ import annotations

from infra.accounts.policy import Action, can


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "nav": {
            "dashboard": can(user, Action.DASHBOARD),
            "maintenance": any(can(user, a) for a in (Action.MAINTENANCE_EDIT, Action.MAINTENANCE_PLAN, Action.DASHBOARD)),
            "exports": can(user, Action.EXPORT),
            "imports": can(user, Action.WORK_CREATE),
        }
    }
