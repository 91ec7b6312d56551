"""Who may see and do what — the one place that decides (DESIGN.md, "Who does what").

Admin, pages, API, exports, tiles and map layers all ask this module; none decides for itself.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gis.models import AdminUnitSuccession
from infra.accounts.models import Role
from infra.works.choices import PRIVATE_STAGES, Stage

__all__ = [
    "Action",
    "can",
    "commune_scope",
    "require",
    "role_of",
    "sees_internal",
    "stages_seen_whole",
    "works_internal",
    "works_visible",
]


class Action(StrEnum):
    WORK_PROPOSE = "work.propose"          # register a new work at stage "proposed"
    WORK_CREATE = "work.create"            # register a work at any stage
    WORK_EDIT = "work.edit"                # change a work's facts (name, geometry, budget…)
    WORK_PROGRESS = "work.progress"        # update progress % while under construction
    WORK_STAGE = "work.stage"              # move a work through its lifecycle
    DOCUMENT_UPLOAD = "document.upload"    # attach documents and photos
    MONEY_RECORD = "money.record"          # capital plans, allocations, disbursements
    MAINTENANCE_EDIT = "maintenance.edit"  # schedules, inspections, records
    MAINTENANCE_PLAN = "maintenance.plan"  # yearly plans over all works
    HISTORY_READ = "history.read"          # full change history
    EXPORT = "export"                      # Excel and GIS exports
    AUDIT_BUNDLE = "export.audit"          # the audit bundle
    REFERENCE_EDIT = "reference.edit"      # administrative units, villages, roads, organisations
    DASHBOARD = "dashboard"                # the board's dashboard of stages, money and findings


# What each role may do; commune officers only within their communes (checked per work).
_GRANTS: dict[str, frozenset[Action]] = {
    Role.BOARD: frozenset({
        Action.WORK_PROPOSE, Action.WORK_CREATE, Action.WORK_EDIT, Action.WORK_PROGRESS, Action.WORK_STAGE,
        Action.DOCUMENT_UPLOAD, Action.MONEY_RECORD, Action.MAINTENANCE_EDIT, Action.HISTORY_READ, Action.EXPORT,
        Action.REFERENCE_EDIT, Action.DASHBOARD,
    }),
    Role.COMMUNE_OFFICER: frozenset({
        Action.WORK_PROPOSE, Action.WORK_PROGRESS, Action.DOCUMENT_UPLOAD, Action.MAINTENANCE_EDIT,
    }),
    Role.PLANNER: frozenset({Action.MAINTENANCE_EDIT, Action.MAINTENANCE_PLAN, Action.EXPORT, Action.DASHBOARD}),
    Role.AUDITOR: frozenset({Action.HISTORY_READ, Action.EXPORT, Action.AUDIT_BUNDLE, Action.DASHBOARD}),
}
_SCOPED_TO_COMMUNES = frozenset({Role.COMMUNE_OFFICER})


def role_of(user: Any) -> str | None:
    """Return the person's role, or None for the public (and for accounts with no profile)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
    if profile is not None:
        return profile.role
    # A superuser without a profile administers the system as the board does.
    return Role.BOARD if user.is_superuser else None


def commune_scope(user: Any) -> frozenset[int]:
    """Return the ids of the communes a commune officer works for, in both vintages.

    An officer bound to a pre-2025 commune also covers the commune it merged into, and one bound
    to a current commune covers the former communes that merged into it.
    """
    if role_of(user) not in _SCOPED_TO_COMMUNES:
        return frozenset()
    cache = getattr(user, "_commune_scope_cache", None)
    if cache is not None:
        return cache
    bound = set(user.profile.communes.values_list("id", flat=True))
    links = AdminUnitSuccession.objects.filter(Q(predecessor_id__in=bound) | Q(successor_id__in=bound))
    scope = set(bound)
    for predecessor_id, successor_id in links.values_list("predecessor_id", "successor_id"):
        scope.update((predecessor_id, successor_id))
    user._commune_scope_cache = frozenset(scope)
    return user._commune_scope_cache


def _in_scope(user: Any, work: Any) -> bool:
    scope = commune_scope(user)
    return work.current_commune_id in scope or work.approved_commune_id in scope


def works_visible(user: Any, works: QuerySet | None = None) -> QuerySet:
    """Narrow a queryset of works to those the person may see."""
    from infra.works.models import Work

    works = Work.objects.all() if works is None else works
    stages = stages_seen_whole(user)
    if stages is not None and len(stages) == len(Stage.values):
        return works
    # Written as "not private" (the same set: a check constraint admits only known stages) because
    # that condition cannot use the (category, stage) index: when nearly every work is public, the
    # planner otherwise ANDs a bitmap of the whole index into every bbox query.
    public = ~Q(stage__in=sorted(PRIVATE_STAGES))  # sorted: the same SQL in every process
    if stages is None:  # a commune officer: public works, and every work of their communes
        scope = commune_scope(user)
        return works.filter(public | Q(current_commune_id__in=scope) | Q(approved_commune_id__in=scope))
    return works.filter(public)


def stages_seen_whole(user: Any) -> tuple[str, ...] | None:
    """Return the stages of which the person sees every work, when the stage alone decides what they see;
    None when it does not (a commune officer also sees their communes' works). `works_visible` and the
    kept counts (infra.works.selectors.works_count) both follow it."""
    role = role_of(user)
    if role in (Role.BOARD, Role.PLANNER, Role.AUDITOR):
        return _EVERY_STAGE
    if role == Role.COMMUNE_OFFICER:
        return None
    return _PUBLIC_STAGES


_EVERY_STAGE = tuple(Stage.values)
_PUBLIC_STAGES = tuple(stage for stage in Stage.values if stage not in PRIVATE_STAGES)


def sees_internal(user: Any, work: Any | None = None) -> bool:
    """Whether the person may read internal notes and non-public documents (of this work; without a work, of
    every work: a commune officer reads only their communes' and gets False)."""
    role = role_of(user)
    if role in (Role.BOARD, Role.PLANNER, Role.AUDITOR):
        return True
    if role == Role.COMMUNE_OFFICER:
        return work is not None and _in_scope(user, work)
    return False


def works_internal(user: Any, works: QuerySet | None = None) -> QuerySet:
    """Narrow a queryset of works to those whose internal facts the person may read (sees_internal of each)."""
    from infra.works.models import Work

    works = Work.objects.all() if works is None else works
    role = role_of(user)
    if role in (Role.BOARD, Role.PLANNER, Role.AUDITOR):
        return works
    if role == Role.COMMUNE_OFFICER:
        scope = commune_scope(user)
        return works.filter(Q(current_commune_id__in=scope) | Q(approved_commune_id__in=scope))
    return works.none()


def can(user: Any, action: Action, obj: Any | None = None) -> bool:
    """Whether the person may do this (to this work, when one is given)."""
    role = role_of(user)
    if role is None or action not in _GRANTS.get(role, frozenset()):
        return False
    if role in _SCOPED_TO_COMMUNES and obj is not None:
        work = getattr(obj, "work", obj)
        if not _in_scope(user, work):
            return False
        if action == Action.WORK_PROPOSE:
            return work.stage == Stage.PROPOSED
    return True


def require(user: Any, action: Action, obj: Any | None = None) -> None:
    """Raise PermissionDenied unless the person may do this."""
    if not can(user, action, obj):
        raise PermissionDenied(_("You are not allowed to do this."))
