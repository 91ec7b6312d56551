"""How pages answer someone the policy refuses: the public is sent to sign in, others get 403."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from infra.accounts.policy import Action, can

__all__ = ["page_refusal", "page_refusal_for"]


def page_refusal(request: HttpRequest, allowed: bool) -> HttpResponse | None:
    """Return the sign-in redirect for the public, raise PermissionDenied if not allowed, else None."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed:
        raise PermissionDenied
    return None


def page_refusal_for(request: HttpRequest, action: Action, obj: Any | None = None) -> HttpResponse | None:
    """page_refusal for one action of the policy (on this object, when given)."""
    return page_refusal(request, can(request.user, action, obj))
