"""One demo login per role (DESIGN.md, "Who does what"), with a random password shown once.

Never a superuser, and never on a production configuration unless explicitly allowed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from gis.models import AdminUnit, AdminUnitLevel
from infra.accounts.models import Organisation, Profile, Role
from infra.demo import CHANGE_REASON
from infra.demo.parties import DISTRICT_BOARD

__all__ = ["DEMO_USERS", "UsersOutcome", "demo_users_allowed", "demo_users_ensure"]

_DOMAIN_APPS = ("geo", "accounts", "works", "finance", "maintenance", "audit")
_COMMUNE_CODE = "03549"

# username, role, group, {app labels: actions}. History models are never given add or change.
DEMO_USERS: tuple[tuple[str, str, str, dict[tuple[str, ...], tuple[str, ...]]], ...] = (
    (
        "board",
        Role.BOARD,
        "Ban QLDA",
        {("works", "finance", "maintenance"): ("add", "change", "view"), ("geo", "accounts", "audit"): ("view",)},
    ),
    # Commune officers may propose works and add photos and upkeep; the policy narrows it to their communes.
    ("commune_phongtho", Role.COMMUNE_OFFICER, "Cán bộ xã", {("works", "maintenance"): ("add", "change", "view"), ("geo",): ("view",)}),
    ("planner", Role.PLANNER, "Kế hoạch bảo trì", {("maintenance",): ("add", "change", "view"), ("works", "geo"): ("view",)}),
    # Auditors read everything, history and the admin log included, and change nothing.
    ("auditor", Role.AUDITOR, "Kiểm toán", {(*_DOMAIN_APPS, "auth", "admin"): ("view",)}),
)


@dataclass
class UsersOutcome:
    allowed: bool
    created: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, role


def demo_users_allowed() -> bool:
    """Demo logins only on a debug setup, or where the operator says so (ALLOW_DEMO_USERS=1)."""
    return settings.DEBUG or os.environ.get("ALLOW_DEMO_USERS") == "1"


def _permissions(grants: dict[tuple[str, ...], tuple[str, ...]]) -> list[Permission]:
    wanted = Q(pk__in=[])
    for apps, actions in grants.items():
        for action in actions:
            rule = Q(content_type__app_label__in=apps, codename__startswith=f"{action}_")
            if action != "view":
                rule &= ~Q(content_type__model__startswith="historical")
            wanted |= rule
    return list(Permission.objects.filter(wanted).order_by("pk"))


def _group(*, name: str, grants: dict[tuple[str, ...], tuple[str, ...]]) -> Group:
    # An existing group is left as an administrator may have tuned it.
    group, created = Group.objects.get_or_create(name=name)
    if created:
        group.permissions.set(_permissions(grants))
    return group


def _communes() -> list[AdminUnit]:
    current = AdminUnit.objects.current().get(level=AdminUnitLevel.COMMUNE, code=_COMMUNE_CODE)
    formers = AdminUnit.objects.filter(successions__successor=current, valid_to__isnull=False)
    return [current, *formers.order_by("code")]


def _organisation(role: str) -> Organisation | None:
    if role == Role.BOARD:
        return Organisation.objects.filter(name=DISTRICT_BOARD).first()
    if role == Role.COMMUNE_OFFICER:
        return Organisation.objects.filter(
            commune__code=_COMMUNE_CODE, commune__valid_to__isnull=True, kind="commune_committee"
        ).first()
    return None


def _write_logins(*, path: Path, created: list[tuple[str, str, str]]) -> None:
    """Add the new logins to the file, replacing any stale line for the same user; readable by the owner only."""
    fresh = {username for username, _password, _role in created}
    kept = []
    if path.exists():
        kept = [line for line in path.read_text(encoding="utf-8").splitlines() if line.split(" / ", 1)[0] not in fresh]
    lines = kept + [f"{username} / {password} / {role}" for username, password, role in created]
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 600 from the start, so the passwords are never readable by others, even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)


def demo_users_ensure(*, logins_file: Path) -> UsersOutcome:
    """Create the demo users that do not exist yet; existing ones are not touched."""
    if not demo_users_allowed():
        return UsersOutcome(allowed=False)
    user_model = get_user_model()
    existing = set(user_model.objects.filter(username__in=[u[0] for u in DEMO_USERS]).values_list("username", flat=True))
    outcome = UsersOutcome(allowed=True)
    for username, role, group_name, grants in DEMO_USERS:
        if username in existing:
            continue
        password = secrets.token_urlsafe(12)
        user = user_model(username=username, is_staff=True, is_superuser=False)
        user.set_password(password)
        user.save()
        user.groups.add(_group(name=group_name, grants=grants))
        profile = Profile(user=user, role=role, organisation=_organisation(role), is_demo=True)
        profile._change_reason = CHANGE_REASON
        profile.save()
        if role == Role.COMMUNE_OFFICER:
            profile.communes.set(_communes())
        outcome.created.append((username, password, str(role)))
    if outcome.created:
        _write_logins(path=logins_file, created=outcome.created)
    return outcome
