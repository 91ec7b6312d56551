"""Writes to works: create, update with optimistic locking, and stage moves."""
from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gis.validation import geometry_check
from infra.accounts.policy import Action, can
from infra.constraints import insert_checked
from infra.dates import fields_in_range
from infra.works.choices import STAGE_ORDER, Category, Stage, allowed_geometry_types
from infra.works.models import StageEvent, Work
from infra.works.selectors import commune_for_geometry, province_area

__all__ = [
    "StaleVersion",
    "stage_allowed_targets",
    "work_check_changes",
    "work_check_geometry",
    "work_check_proposer_scope",
    "work_create",
    "work_stage_change",
    "work_update",
]

# Fields a caller may set through work_create / work_update; everything else is derived or guarded.
EDITABLE_FIELDS = frozenset({
    "name", "category", "description", "internal_notes", "school_level", "water_source", "road_class",
    "road_surface", "all_season", "geometry", "approved_commune", "beneficiary_households",
    "beneficiary_poor_households", "beneficiary_women", "special_mechanism", "contractor", "approved_year",
    "total_investment", "progress", "planned_start", "planned_end", "actual_start", "actual_end", "is_demo",
})


class StaleVersion(ValidationError):
    """The work changed since the caller read it; their save would overwrite someone's edit."""

    def __init__(self, *, current: Work, changed: dict[str, tuple[Any, Any]]):
        self.current = current
        self.changed = changed
        super().__init__(
            _("Someone else saved this work (now version %(version)s) after you opened it; reload and apply your change again.")
            % {"version": current.version},
            code="stale",
        )


def work_check_geometry(*, category: str, geometry: GEOSGeometry) -> None:
    """Raise ValidationError unless the geometry suits the category and lies in the province."""
    if category not in Category.values:
        raise ValidationError({"category": _("Unknown category %(value)r.") % {"value": category}})
    geometry_check(
        geometry=geometry,
        allowed_types=allowed_geometry_types(category),
        area=province_area(),
        tolerance_deg=settings.AREA_TOLERANCE_DEG,
    )


def work_check_proposer_scope(*, user: AbstractBaseUser | None, geometry: GEOSGeometry, approved_commune: Any = None) -> None:
    """Raise PermissionDenied unless the person may register a work at this place (and under this commune).

    The board registers works anywhere; a commune officer proposes works in their own communes only, and
    approved under none of another's (which would put the work in that commune's officers' scope).
    """
    if can(user, Action.WORK_CREATE):
        return
    places = [commune_for_geometry(geometry=geometry)]
    if approved_commune is not None:
        places.append(approved_commune)
    for commune in places:
        if not can(user, Action.WORK_PROPOSE, Work(stage=Stage.PROPOSED, current_commune=commune)):
            raise PermissionDenied(_("The work lies outside your communes.") if can(user, Action.WORK_PROPOSE)
                                   else _("You are not allowed to do this."))


def _set_history_user(obj: Any, user: AbstractBaseUser | None) -> None:
    # django-simple-history reads this attribute when it writes the history row.
    obj._history_user = user


@transaction.atomic
def work_create(
    *,
    user: AbstractBaseUser | None,
    code: str,
    name: str,
    category: str,
    geometry: GEOSGeometry,
    approved_year: int,
    stage: str = Stage.PROPOSED,
    stage_date: date | None = None,
    villages_served: list | None = None,
    **fields: Any,
) -> Work:
    """Create a work, placing it in today's commune by its geometry, with its first stage event."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    work_check_geometry(category=category, geometry=geometry)
    work = Work(code=code.strip(), name=name.strip(), category=category, geometry=geometry, approved_year=approved_year,
                stage=stage, **fields)
    work.current_commune = commune_for_geometry(geometry=geometry)
    _set_history_user(work, user)
    insert_checked(work)  # full_clean and save, the check constraints decided by the INSERT itself
    if villages_served:
        work.villages_served.set(villages_served)
    event = StageEvent(work=work, from_stage="", to_stage=stage, occurred_on=stage_date or timezone.localdate(), recorded_by=user)
    _set_history_user(event, user)
    event.save()
    return work


@transaction.atomic
def work_update(*, work: Work, user: AbstractBaseUser | None, expected_version: int, **changes: Any) -> Work:
    """Apply changes if nobody saved the work since `expected_version`; bump the version."""
    # Lock the row so two savers cannot both pass the version check.
    current = Work.objects.select_for_update().get(pk=work.pk)
    if current.version != expected_version:
        changed = {}
        for record in current.history.filter(version__gt=expected_version).order_by("history_id"):
            delta = record.diff_against(record.prev_record) if record.prev_record else None
            for change in delta.changes if delta else []:
                changed[change.field] = (changed.get(change.field, (change.old,))[0], change.new)
        raise StaleVersion(current=current, changed=changed)
    work_check_changes(work=current, changes=changes)
    for field, value in changes.items():
        setattr(current, field, value)
    if "geometry" in changes or "category" in changes:
        work_check_geometry(category=current.category, geometry=current.geometry)
        current.current_commune = commune_for_geometry(geometry=current.geometry)
    current.version += 1
    current.full_clean()
    _set_history_user(current, user)
    current.save()
    return current


def work_check_changes(*, work: Work, changes: dict[str, Any]) -> None:
    """Raise ValidationError if these changes may not be made to the work as it stands."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    if "progress" in changes and changes["progress"] != work.progress and work.stage != Stage.UNDER_CONSTRUCTION:
        raise ValidationError({"progress": _("Progress can only be updated while the work is under construction.")})


# Allowed moves: one step along the main line, or a side exit; resuming goes back to where it stopped.
_SIDE_EXITS = {Stage.SUSPENDED, Stage.CANCELLED}
_TERMINAL = {Stage.CANCELLED}
_NEEDS_REASON = {Stage.SUSPENDED, Stage.CANCELLED}


def stage_allowed_targets(*, work: Work) -> list[str]:
    """Return the stages a work may move to next."""
    if work.stage in _TERMINAL:
        return []
    if work.stage == Stage.SUSPENDED:
        resumed = work.stage_events.exclude(to_stage=Stage.SUSPENDED).order_by("-occurred_on", "-id").first()
        back = [resumed.to_stage] if resumed else []
        return back + [Stage.CANCELLED]
    targets: list[str] = []
    position = STAGE_ORDER.index(work.stage)
    if position + 1 < len(STAGE_ORDER):
        targets.append(STAGE_ORDER[position + 1])
    # Suspending or cancelling makes sense until the work is built and accepted.
    if position < STAGE_ORDER.index(Stage.COMPLETED):
        targets += [Stage.SUSPENDED, Stage.CANCELLED]
    return targets


_STAGE_CHANGE_LEAVES = frozenset({"geometry", "code", "name", "description", "internal_notes", "planned_start", "planned_end"})


@transaction.atomic
def work_stage_change(
    *,
    work: Work,
    user: AbstractBaseUser | None,
    to_stage: str,
    occurred_on: date,
    note: str = "",
    decision_number: str = "",
    expected_version: int | None = None,
    evidence: list | None = None,
) -> StageEvent:
    """Move a work to a new stage on a date, recording who did it and on what evidence."""
    current = Work.objects.select_for_update().get(pk=work.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(current=current, changed={})
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": _("Unknown stage %(value)r.") % {"value": to_stage}})
    if to_stage not in stage_allowed_targets(work=current):
        raise ValidationError(
            {"to_stage": _("A work cannot move from “%(from)s” to “%(to)s”.")
             % {"from": Stage(current.stage).label, "to": Stage(to_stage).label}}
        )
    if to_stage in _NEEDS_REASON and not note.strip():
        raise ValidationError({"note": _("Give the reason for suspending or cancelling the work.")})
    fields_in_range(occurred_on=occurred_on)
    # Vietnam's date, not the server's UTC one: between 00:00 and 07:00 they differ.
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("A stage change cannot be dated in the future.")})
    last = current.stage_events.order_by("-occurred_on", "-id").first()
    if last and occurred_on < last.occurred_on:
        raise ValidationError(
            {"occurred_on": _("The date %(date)s is before the previous stage change (%(previous)s).")
             % {"date": occurred_on.strftime("%d/%m/%Y"), "previous": last.occurred_on.strftime("%d/%m/%Y")}}
        )
    evidence = list(evidence or [])
    if any(document.work_id != current.pk for document in evidence):
        raise ValidationError({"evidence": _("Evidence must be a document of this work.")})
    previous = current.stage
    current.stage = to_stage
    if to_stage == Stage.UNDER_CONSTRUCTION and current.actual_start is None:
        current.actual_start = occurred_on
    if to_stage == Stage.COMPLETED:
        current.progress = 100
        current.actual_end = current.actual_end or occurred_on
    current.version += 1
    # Only what a stage change sets is checked again: the geometry cannot change here (re-checking it is a
    # database round trip per constraint), and a text or planned date stored before a rule refused it (a
    # control character, a year 25) must not keep the work from moving on; editing the work says so.
    current.full_clean(exclude=_STAGE_CHANGE_LEAVES)
    event = StageEvent(work=current, from_stage=previous, to_stage=to_stage, occurred_on=occurred_on, note=note.strip(),
                       decision_number=decision_number.strip(), recorded_by=user)
    event.full_clean(exclude=["work", "recorded_by"])  # its note and number (length, control characters) before any write
    _set_history_user(current, user)
    current.save()
    _set_history_user(event, user)
    event.save()
    if evidence:
        event.evidence.set(evidence)
    if to_stage == Stage.HANDED_OVER:
        # A work handed over for use gets its category's default upkeep (editable afterwards).
        from infra.maintenance.services import schedules_apply_templates  # maintenance depends on works, not the reverse

        schedules_apply_templates(work=current, user=user, on=occurred_on)
    work.refresh_from_db()
    return event
