"""Writes to maintenance: schedules, inspections, records of work done, default tasks at handover.

Every write asks the access policy (`Action.MAINTENANCE_EDIT` on the work: commune officers in
their communes, planners and the board everywhere) and raises PermissionDenied otherwise.
`user=None` means the system itself (a data load or a command run by an operator), as in the
works services; views always pass the signed-in person.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from infra.accounts.policy import Action, can
from infra.maintenance.models import Condition, Inspection, Record, ResponsibleKind, Schedule, TaskKind, next_due
from infra.maintenance.templates import REPAIR_SHARE, TEMPLATES, estimate_cost
from infra.works.models import DocumentKind, Work
from infra.works.uploads import document_attach, document_check_upload

__all__ = [
    "inspection_create",
    "record_create",
    "schedule_close",
    "schedule_create",
    "schedule_state",
    "schedule_update",
    "schedules_apply_templates",
]

# Fields schedule_update may change; last_done moves through records, closing through schedule_close.
SCHEDULE_EDITABLE = frozenset({"task_kind", "description", "interval_months", "starts_on", "responsible", "estimated_cost"})
# Recording or closing a task re-checks only what it sets: a description stored before its text was checked
# (infra.cells.printable) must not stop the work being recorded; editing the task names what to mend.
_SCHEDULE_KEEPS = ["description"]
# A task done every 100 years at the most: its due dates stay within the years a date can hold (1900–2100).
INTERVAL_MONTHS_MAX = 1200
# Conditions that call for a repair.
NEEDS_REPAIR = frozenset({Condition.POOR, Condition.FAILED})


def _require(user: AbstractBaseUser | None, work: Work, *also: Action) -> None:
    if user is None:
        return
    if not any(can(user, action, work) for action in (Action.MAINTENANCE_EDIT, *also)):
        raise PermissionDenied(_("You may not manage the maintenance of work %(code)s.") % {"code": work.code})


def _save(obj: Any, user: AbstractBaseUser | None, **clean: Any) -> None:
    obj.full_clean(**clean)
    # django-simple-history reads this attribute when it writes the history row.
    obj._history_user = user
    obj.save()


def _whole_vnd(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError({field: _("Amounts are whole numbers of VND.")})
    if value < 0:
        raise ValidationError({field: _("The cost cannot be negative.")})
    return value


def _interval(value: Any, task_kind: str) -> int | None:
    if value is None:
        if task_kind != TaskKind.REPAIR:
            raise ValidationError({"interval_months": _("Routine and periodic maintenance need an interval in months.")})
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= INTERVAL_MONTHS_MAX:
        raise ValidationError({"interval_months": _("The interval must be a whole number of months, from 1 to %(most)d.")
                               % {"most": INTERVAL_MONTHS_MAX}})
    return value


def _not_future(day: date, field: str, message: str) -> None:
    # Vietnam's date, not the server's UTC one: between 00:00 and 07:00 they differ.
    if day > timezone.localdate():
        raise ValidationError({field: message})


def _check_schedule(schedule: Schedule) -> None:
    if schedule.task_kind not in TaskKind.values:
        raise ValidationError({"task_kind": _("Unknown task %(value)r.") % {"value": schedule.task_kind}})
    if schedule.responsible not in ResponsibleKind.values:
        raise ValidationError({"responsible": _("Unknown responsible party %(value)r.") % {"value": schedule.responsible}})
    schedule.interval_months = _interval(schedule.interval_months, schedule.task_kind)
    if schedule.estimated_cost is not None:  # None: not estimated yet
        schedule.estimated_cost = _whole_vnd(schedule.estimated_cost, "estimated_cost")


@transaction.atomic
def schedule_create(
    *,
    user: AbstractBaseUser | None,
    work: Work,
    task_kind: str,
    interval_months: int | None,
    starts_on: date,
    responsible: str,
    estimated_cost: int | None = None,
    description: str = "",
    last_done: date | None = None,
    proposed_by: Inspection | None = None,
    is_demo: bool = False,
) -> Schedule:
    """Schedule a task on a work: first due on `starts_on`, then every `interval_months` after it is done."""
    _require(user, work)
    if last_done is not None:
        _not_future(last_done, "last_done", _("The date it was last done cannot be in the future."))
    schedule = Schedule(work=work, task_kind=task_kind, interval_months=interval_months, starts_on=starts_on,
                        responsible=responsible, estimated_cost=estimated_cost, description=(description or "").strip(),
                        last_done=last_done, proposed_by=proposed_by, is_demo=is_demo)
    _check_schedule(schedule)
    _save(schedule, user)
    return schedule


def schedule_state(schedule: Schedule) -> str:
    """A short digest of what an edit of the task can change: a form keeps the one it was shown with, and
    schedule_update refuses the edit when the task has changed since (someone else saved meanwhile)."""
    values = [str(getattr(schedule, name)) for name in sorted(SCHEDULE_EDITABLE)] + [str(schedule.closed_on)]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:16]


@transaction.atomic
def schedule_update(*, user: AbstractBaseUser | None, schedule: Schedule, seen: str | None = None, **changes: Any) -> Schedule:
    """Change a schedule's task, interval, first due date, responsible party, cost or description. `seen`: the
    task's schedule_state when the person's form was shown; another state now refuses the change, so that two
    people editing one task cannot silently undo each other's change."""
    unknown = set(changes) - SCHEDULE_EDITABLE
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    current = Schedule.objects.select_for_update().select_related("work").get(pk=schedule.pk)
    _require(user, current.work)
    if seen is not None and seen != schedule_state(current):
        raise ValidationError(_("Someone else changed this task while you were editing it, and nothing was saved. Open "
                                "it again to see it as it is now, then make your change."))
    if current.closed_on is not None:
        raise ValidationError(_("This task is closed; schedule a new one instead."))
    for field, value in changes.items():
        setattr(current, field, value.strip() if field == "description" and isinstance(value, str) else value)
    _check_schedule(current)
    _save(current, user)
    schedule.refresh_from_db()
    return current


@transaction.atomic
def schedule_close(*, user: AbstractBaseUser | None, schedule: Schedule, on: date, note: str) -> Schedule:
    """Close a task that will not be done (a repair found unnecessary, a work taken out of use)."""
    current = Schedule.objects.select_for_update().select_related("work").get(pk=schedule.pk)
    _require(user, current.work)
    if current.closed_on is not None:
        raise ValidationError(_("This task is already closed."))
    if not (note or "").strip():
        raise ValidationError({"closing_note": _("Say why the task is closed.")})
    _not_future(on, "closed_on", _("A task cannot be closed on a future date."))
    current.closed_on = on
    current.closing_note = note.strip()
    _save(current, user, exclude=_SCHEDULE_KEEPS)
    schedule.refresh_from_db()
    return current


@transaction.atomic
def schedules_apply_templates(*, work: Work, user: AbstractBaseUser | None, on: date) -> list[Schedule]:
    """Give a handed-over work its category's default tasks, first due one interval after `on`.

    Idempotent: a task kind the work already has open is left as it is, so calling this again
    (or after someone scheduled the task by hand) adds nothing.
    """
    # Whoever may move a work through its lifecycle may also set up its upkeep at handover.
    _require(user, work, Action.WORK_STAGE)
    existing = set(work.schedules.filter(closed_on__isnull=True).values_list("task_kind", flat=True))
    created = []
    for template in TEMPLATES.get(work.category, ()):
        if template.task_kind in existing:
            continue
        # Stored in the register's language whatever the language of the person's screen.
        with translation.override(settings.LANGUAGE_CODE):
            description = str(template.description)
        schedule = Schedule(
            work=work, task_kind=template.task_kind, interval_months=template.interval_months,
            starts_on=on + relativedelta(months=template.interval_months), responsible=template.responsible,
            estimated_cost=estimate_cost(investment=work.total_investment, share=template.cost_share),
            description=description, is_demo=work.is_demo,
        )
        _save(schedule, user)
        existing.add(template.task_kind)
        created.append(schedule)
    return created


@transaction.atomic
def inspection_create(
    *,
    user: AbstractBaseUser | None,
    work: Work,
    inspected_on: date,
    inspector: str,
    condition: str,
    notes: str = "",
    photos: Sequence[UploadedFile] = (),
    repair_cost: int | None = None,
) -> Inspection:
    """Record an inspection; a poor or failed rating proposes a repair (see `inspection.proposed_repairs`).

    The repair is a one-off task due on the inspection's date, costed at `repair_cost` or, when
    not given, a share of the work's investment (templates.REPAIR_SHARE). A work that already has
    an open repair task gets no second one: the planner reads the latest condition anyway.
    """
    _require(user, work)
    # The work's row is locked before anything is written, so that two bad inspections at once cannot both find no
    # open repair (on PostgreSQL both would pass the check). NO KEY: rows that only refer to the work go on.
    Work.objects.select_for_update(no_key=True).filter(pk=work.pk).first()
    if condition not in Condition.values:
        raise ValidationError({"condition": _("Unknown condition %(value)r.") % {"value": condition}})
    _not_future(inspected_on, "inspected_on", _("An inspection cannot be dated in the future."))
    if not (inspector or "").strip():
        raise ValidationError({"inspector": _("Name the inspector.")})
    if repair_cost is not None:
        _whole_vnd(repair_cost, "repair_cost")
    # Check every photo before anything is stored, so a bad second photo leaves no first file behind.
    for upload in photos:
        document_check_upload(upload=upload, kind=DocumentKind.PHOTO)
    inspection = Inspection(work=work, inspected_on=inspected_on, inspector=inspector.strip(), condition=condition,
                            notes=(notes or "").strip(), recorded_by=user)
    _save(inspection, user)
    attached = [
        document_attach(work=work, user=user, upload=upload, kind=DocumentKind.PHOTO,
                        title=_("Inspection %(date)s") % {"date": inspected_on.strftime("%d/%m/%Y")})
        for upload in photos
    ]
    if attached:
        inspection.photos.set(attached)
    # Only the work's latest inspection speaks for its condition: an older one entered late proposes nothing (the
    # planner reads the latest condition too).
    latest = not work.inspections.filter(inspected_on__gt=inspected_on).exists()
    if condition in NEEDS_REPAIR and latest \
            and not work.schedules.filter(task_kind=TaskKind.REPAIR, closed_on__isnull=True).exists():
        cost = repair_cost if repair_cost is not None else estimate_cost(investment=work.total_investment,
                                                                         share=REPAIR_SHARE[condition])
        with translation.override(settings.LANGUAGE_CODE):
            description = _("Repair proposed by the inspection of %(date)s (%(condition)s)") % {
                "date": inspected_on.strftime("%d/%m/%Y"), "condition": Condition(condition).label}
        repair = Schedule(work=work, task_kind=TaskKind.REPAIR, interval_months=None, starts_on=inspected_on,
                          responsible=ResponsibleKind.COMMUNE_COMMITTEE, estimated_cost=cost, description=description[:255],
                          proposed_by=inspection, is_demo=work.is_demo)
        _save(repair, user)
    return inspection


def _moves_forward(schedule: Schedule, done_on: date) -> bool:
    """Whether a job done on `done_on` becomes the task's last time done: never one before its last time, and for a
    recurring task never done, not one whose next due date would come before the task's own first due date."""
    if schedule.last_done is not None:
        return done_on > schedule.last_done
    if not schedule.is_recurring:
        return True
    return next_due(last_done=done_on, starts_on=schedule.starts_on,
                    interval_months=schedule.interval_months) >= schedule.starts_on


@transaction.atomic
def record_create(
    *,
    user: AbstractBaseUser | None,
    work: Work,
    done_on: date,
    cost: int,
    description: str,
    schedule: Schedule | None = None,
) -> Record:
    """Record maintenance done; done against a task, it moves the task's next due date (or closes a one-off task)."""
    _require(user, work)
    _whole_vnd(cost, "cost")
    _not_future(done_on, "done_on", _("Maintenance done cannot be dated in the future."))
    if not (description or "").strip():
        raise ValidationError({"description": _("Say what was done.")})
    if schedule is not None:
        # Lock the task so two records cannot both move it.
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        if schedule.work_id != work.pk:
            raise ValidationError({"schedule": _("The task belongs to another work.")})
        if schedule.closed_on is not None:
            raise ValidationError({"schedule": _("This task is closed; record the work without it or schedule a new task.")})
    record = Record(work=work, schedule=schedule, done_on=done_on, cost=cost, description=description.strip(), recorded_by=user)
    _save(record, user)
    if schedule is not None:
        # An older job entered late does not move the task backwards: neither past a later job, nor, for a task
        # never done, before the date it first falls due (a job of 2024 would make a task first due in 2026 overdue).
        if _moves_forward(schedule, done_on):
            schedule.last_done = done_on
        if not schedule.is_recurring:
            schedule.closed_on = schedule.last_done
            with translation.override(settings.LANGUAGE_CODE):
                schedule.closing_note = _("done (maintenance record of %(date)s)") % {"date": done_on.strftime("%d/%m/%Y")}
        _save(schedule, user, exclude=_SCHEDULE_KEEPS)
    return record
