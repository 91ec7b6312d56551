"""Saved plans: a yearly plan kept as it was made, and what the plan made today with its inputs would change.

`plan_save` stores the plan `selectors.plan_for` makes (its inputs, totals and every line, with the task and work
as the plan saw them); `saved_plan` gives it back as the same `planner.Plan`, so that its page and workbook are
the live plan's own, read from the stored rows; `plan_changes` compares it with the plan made now.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gis.models import AdminUnit
from infra.accounts.policy import Action, can
from infra.audit.chain import on_kept_records
from infra.maintenance.models import SavedPlan, SavedPlanLeftOut, SavedPlanLine, TaskKind
from infra.maintenance.planner import Candidate, Plan, PlanLine, plan_period
from infra.maintenance.selectors import LeftOut, plan_for

__all__ = ["Change", "plan_changes", "plan_save", "saved_plan"]


@transaction.atomic
def plan_save(*, user: AbstractBaseUser | None, year: object, budget: object, commune: AdminUnit | None = None,
              note: str = "", today: date | None = None) -> SavedPlan:
    """Make the plan and store it whole, or nothing (bad inputs raise ValidationError; planners only)."""
    if user is not None and not can(user, Action.MAINTENANCE_PLAN):
        raise PermissionDenied(_("You are not allowed to do this."))
    today = today or timezone.localdate()
    plan = plan_for(user=user, year=year, budget=budget, commune=commune, today=today)
    saved = SavedPlan(year=plan.year, budget=plan.budget, commune=commune, as_of=today, made_by=user,
                      note=(note or "").strip(), total=plan.total, demand=plan.demand)
    saved.full_clean()
    saved.save()
    lines = SavedPlanLine.objects.bulk_create(
        SavedPlanLine(
            plan=saved, rank=line.rank, funded=line.funded, schedule_id=c.schedule_id, work_id=c.work_id,
            work_code=c.work_code, work_name=c.work_name, commune=c.commune, task_kind=c.task_kind,
            description=c.description, responsible=c.responsible, next_due=c.next_due, interval_months=c.interval_months,
            unit_cost=c.unit_cost, households=c.households or 0, poor_households=c.poor_households or 0,
            condition=c.condition or "", inspected_on=c.inspected_on, is_demo=c.is_demo, rounds=line.rounds, cost=line.cost,
            overdue=line.overdue, failed=line.failed, weighted=line.weighted, left_before=line.left_before,
            left_after=line.left_after,
        )
        for line in plan.lines
        for c in (line.candidate,)
    )
    left_out = SavedPlanLeftOut.objects.bulk_create(
        SavedPlanLeftOut(plan=saved, work_id=t.work_id, work_code=t.work_code, work_name=t.work_name, stage=t.stage,
                         task_kind=t.task_kind, next_due=t.next_due, estimated_cost=t.estimated_cost, is_demo=t.is_demo)
        for t in plan.left_out
    )
    # In the audit chain, row by row (a saved plan has no history table: it never changes); bulk_create gave each
    # row its id, and on_kept_records reads them back.
    on_kept_records([saved, *lines, *left_out], user=user)
    return saved


def saved_plan(saved: SavedPlan) -> Plan:
    """The saved plan as the planner's own Plan, from its stored rows alone."""
    start, end = plan_period(year=saved.year, today=saved.as_of)
    plan = Plan(year=saved.year, budget=saved.budget, start=start, end=end)
    for row in saved.lines.order_by("rank"):
        candidate = Candidate(
            schedule_id=row.schedule_id, work_id=row.work_id, work_code=row.work_code, work_name=row.work_name,
            task_kind=row.task_kind, next_due=row.next_due, unit_cost=row.unit_cost, interval_months=row.interval_months,
            households=row.households, poor_households=row.poor_households, condition=row.condition or None,
            inspected_on=row.inspected_on, commune=row.commune, description=row.description, responsible=row.responsible,
            is_demo=row.is_demo,
        )
        value = math.inf if row.cost == 0 else row.weighted * 1_000_000 / row.cost
        plan.lines.append(PlanLine(rank=row.rank, candidate=candidate, rounds=row.rounds, cost=row.cost, overdue=row.overdue,
                                   failed=row.failed, weighted=row.weighted, value=value, funded=row.funded,
                                   left_before=row.left_before, left_after=row.left_after))
    plan.left_out = [LeftOut(work_id=t.work_id, work_code=t.work_code, work_name=t.work_name, stage=t.stage,
                             task_kind=t.task_kind, next_due=t.next_due, estimated_cost=t.estimated_cost, is_demo=t.is_demo)
                     for t in saved.left_out.order_by("work_code", "next_due", "id")]
    return plan


@dataclass(frozen=True)
class Change:
    """How one task stands in the plan made now against the saved one (None: not in that plan)."""

    work_code: str
    work_name: str
    task_kind: str
    saved: PlanLine | None
    now: PlanLine | None

    @property
    def task(self) -> str:
        return str(TaskKind(self.task_kind).label)

    @property
    def what(self) -> str:
        if self.saved is None:
            return _("new in the plan")
        if self.now is None:
            return _("no longer in the plan")
        said = []
        if self.saved.funded != self.now.funded:
            said.append(_("now within the budget") if self.now.funded else _("now outside the budget"))
        if self.saved.cost != self.now.cost:
            said.append(_("cost changed"))
        return ", ".join(said)


def plan_changes(saved: Plan, now: Plan) -> list[Change]:
    """The tasks whose line differs between the saved plan and the plan made now with the same inputs: added,
    gone, moved in or out of the budget, or costed differently (a rank that only moved because of those is not
    listed again); in the saved plan's order, then the new ones in the new plan's."""
    kept = {line.candidate.schedule_id: line for line in saved.lines}
    made = {line.candidate.schedule_id: line for line in now.lines}
    changes = []
    for schedule_id, line in kept.items():
        other = made.get(schedule_id)
        if other is None or (other.funded, other.cost) != (line.funded, line.cost):
            changes.append(Change(line.candidate.work_code, line.candidate.work_name, line.candidate.task_kind, line, other))
    for schedule_id, line in made.items():
        if schedule_id not in kept:
            changes.append(Change(line.candidate.work_code, line.candidate.work_name, line.candidate.task_kind, None, line))
    return changes
