"""Queries about maintenance: plan candidates, tasks due, the map layer and the calendar.

Every query starts from the works the person may see (`works_visible`); `user=None` is the
system (a command run by an operator) and sees every work.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gis.layers import Layer, feature_collection, json_bool
from gis.models import AdminUnit
from infra.accounts.policy import Action, can, works_visible
from infra.maintenance.dates import NextDue, next_due_sql
from infra.maintenance.models import Condition, Inspection, ResponsibleKind, Schedule, TaskKind
from infra.maintenance.planner import Candidate, Plan, build_plan, check_inputs
from infra.works.choices import Stage
from infra.works.models import Work
from infra.works.selectors import commune_condition  # the works map's rule for either vintage

__all__ = [
    "DUE_SOON_DAYS",
    "LAYER_STATUSES",
    "CalendarTask",
    "DueTask",
    "calendar_tasks",
    "maintenance_geojson",
    "plan_candidates",
    "plan_for",
    "plan_readable",
    "tasks_due",
    "works_in_scope",
]

DUE_SOON_DAYS = 30
BAD_CONDITIONS = (Condition.POOR, Condition.FAILED)
# Map status codes (worst first) with their labels for a legend.
LAYER_STATUSES = {
    "poor_condition": gettext_lazy("poor condition"),
    "overdue": gettext_lazy("overdue"),
    "due_soon": gettext_lazy("due soon"),
}


def plan_readable(user) -> bool:
    """Whether the person may read the yearly plan: planners, the board and auditors (read only)."""
    # The policy has no separate "read the maintenance plan" action; the dashboard grant is the
    # overview of money and findings that board, planners and auditors share.
    return can(user, Action.MAINTENANCE_PLAN) or can(user, Action.DASHBOARD)


def works_in_scope(*, user, commune: AdminUnit | None = None) -> QuerySet[Work]:
    """Return the works the person may see (every work for the system), in a commune of either vintage, not cancelled."""
    works = Work.objects.all() if user is None else works_visible(user)
    if commune is not None:
        works = works.filter(commune_condition(commune))
    return works.exclude(stage=Stage.CANCELLED)


def _open_schedules(*, user, commune: AdminUnit | None) -> QuerySet[Schedule]:
    return Schedule.objects.filter(closed_on__isnull=True, work__in=works_in_scope(user=user, commune=commune).values("id"))


def _latest_inspection() -> QuerySet[Inspection]:
    return Inspection.objects.filter(work=OuterRef("work")).order_by("-inspected_on", "-id")


# Upkeep is planned for works in use: completed and accepted, handed over, or in operation. A task on a work not (yet,
# or no longer) in use (proposed, under construction, suspended) is listed apart and not planned: it would take budget
# from works people use.
IN_USE = (Stage.COMPLETED, Stage.HANDED_OVER, Stage.IN_OPERATION)


@dataclass(frozen=True)
class LeftOut:
    """An open task due in the plan's year on a work not in use, which the plan leaves out."""

    work_id: int
    work_code: str
    work_name: str
    stage: str
    task_kind: str
    next_due: date
    estimated_cost: int
    is_demo: bool

    @property
    def stage_label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def task_label(self) -> str:
        return str(TaskKind(self.task_kind).label)


def tasks_left_out(*, user, year: int, commune: AdminUnit | None = None) -> list[LeftOut]:
    """Return the open tasks due by the end of `year` on works the person may see that are not in use (IN_USE)."""
    rows = (
        _open_schedules(user=user, commune=commune).exclude(work__stage__in=IN_USE)
        .annotate(due=NextDue()).filter(due__lte=date(year, 12, 31)).order_by("work__code", "due", "id")
        .values_list("work_id", "work__code", "work__name", "work__stage", "task_kind", "due", "estimated_cost", "is_demo")
    )
    return [LeftOut(*row) for row in rows]


def plan_candidates(*, user, year: int, commune: AdminUnit | None = None) -> list[Candidate]:
    """Return the open tasks due by the end of `year` on works in use the person may see, as the planner's input."""
    latest = _latest_inspection()
    rows = (
        _open_schedules(user=user, commune=commune).filter(work__stage__in=IN_USE)
        .annotate(due=NextDue(), latest_condition=Subquery(latest.values("condition")[:1]),
                  latest_on=Subquery(latest.values("inspected_on")[:1]),
                  commune_name=Coalesce("work__current_commune__name", "work__approved_commune__name"))
        .filter(due__lte=date(year, 12, 31))
        .order_by()
        .values_list("id", "work_id", "work__code", "work__name", "task_kind", "due", "estimated_cost", "interval_months",
                     "work__beneficiary_households", "work__beneficiary_poor_households", "latest_condition", "latest_on",
                     "commune_name", "description", "responsible", "work__is_demo")
    )
    return [
        Candidate(schedule_id=r[0], work_id=r[1], work_code=r[2], work_name=r[3], task_kind=r[4], next_due=r[5], unit_cost=r[6],
                  interval_months=r[7], households=r[8], poor_households=r[9], condition=r[10], inspected_on=r[11],
                  commune=r[12] or "", description=r[13], responsible=r[14], is_demo=r[15])
        for r in rows
    ]


def plan_for(*, user, year: object, budget: object, commune: AdminUnit | None = None, today: date | None = None) -> Plan:
    """Return the ranked, budget-bounded plan for a year (raise ValidationError for a bad year or budget)."""
    year, budget = check_inputs(year=year, budget=budget)
    today = today or timezone.localdate()
    plan = build_plan(plan_candidates(user=user, year=year, commune=commune), year=year, budget=budget, today=today)
    plan.left_out = tasks_left_out(user=user, year=year, commune=commune)
    return plan


@dataclass(frozen=True)
class DueTask:
    schedule_id: int
    work_id: int
    work_code: str
    work_name: str
    commune: str
    task_kind: str
    description: str
    responsible: str
    next_due: date
    estimated_cost: int
    is_demo: bool = False

    def overdue_on(self, today: date) -> bool:
        return self.next_due < today

    @property
    def task_label(self) -> str:
        return str(TaskKind(self.task_kind).label)

    @property
    def responsible_label(self) -> str:
        return str(ResponsibleKind(self.responsible).label)


def tasks_due(*, user=None, within_days: int, today: date | None = None, commune: AdminUnit | None = None) -> list[DueTask]:
    """Return open tasks due within `within_days` from today, overdue ones included, by responsible party, commune and date."""
    today = today or timezone.localdate()
    rows = (
        _open_schedules(user=user, commune=commune)
        .annotate(due=NextDue(), commune_name=Coalesce("work__current_commune__name", "work__approved_commune__name"))
        .filter(due__lte=today + timedelta(days=within_days))
        .order_by("responsible", "commune_name", "due", "work__code", "id")
        .values_list("id", "work_id", "work__code", "work__name", "commune_name", "task_kind", "description", "responsible",
                     "due", "estimated_cost", "is_demo")
    )
    return [DueTask(r[0], r[1], r[2], r[3], r[4] or "", r[5], r[6], r[7], r[8], r[9], r[10]) for r in rows]


@dataclass(frozen=True)
class CalendarTask:
    schedule_id: int
    work_id: int
    work_code: str
    work_name: str
    commune: str
    task_kind: str
    description: str
    responsible: str
    interval_months: int | None
    next_due: date
    estimated_cost: int | None  # None where the person may not see costs
    lon: float | None
    lat: float | None
    revised: datetime | None
    is_demo: bool


def calendar_tasks(*, user, commune: AdminUnit | None = None) -> list[CalendarTask]:
    """Return every open task on the works the person may see; costs only for those who plan or manage them."""
    revised = Schedule.history.model.objects.filter(id=OuterRef("pk")).order_by("-history_date").values("history_date")[:1]
    rows = (
        _open_schedules(user=user, commune=commune)
        .annotate(due=NextDue(), commune_name=Coalesce("work__current_commune__name", "work__approved_commune__name"),
                  anchor=PointOnSurface("work__geometry"), revised=Subquery(revised))
        .order_by("due", "work__code", "id")
        .values_list("id", "work_id", "work__code", "work__name", "commune_name", "task_kind", "description", "responsible",
                     "interval_months", "due", "estimated_cost", "anchor", "revised", "work__is_demo", "work__stage",
                     "work__current_commune_id", "work__approved_commune_id")
    )
    readable = user is None or plan_readable(user)
    manages: dict[int, bool] = {}
    tasks = []
    for (pk, work_id, code, name, commune_name, kind, description, responsible, interval, due, cost, anchor, when, demo,
         stage, current_id, approved_id) in rows:
        if not readable and work_id not in manages:
            # The policy decides per work; a bare Work carries what it looks at (the communes).
            work = Work(pk=work_id, stage=stage, current_commune_id=current_id, approved_commune_id=approved_id)
            manages[work_id] = can(user, Action.MAINTENANCE_EDIT, work)
        tasks.append(CalendarTask(
            schedule_id=pk, work_id=work_id, work_code=code, work_name=name, commune=commune_name or "", task_kind=kind,
            description=description, responsible=responsible, interval_months=interval, next_due=due,
            estimated_cost=cost if readable or manages[work_id] else None,
            lon=anchor.x if anchor else None, lat=anchor.y if anchor else None, revised=when, is_demo=demo,
        ))
    return tasks


# ---- the map layer, built in the database -----------------------------------------------------------

def _maintenance_layer(*, today: date, soon_days: int) -> Layer:
    schedules, inspections = Schedule._meta.db_table, Inspection._meta.db_table
    due = next_due_sql(vendor=connection.vendor, last_done="s.last_done", starts_on="s.starts_on",
                       interval_months="s.interval_months")
    # Dates are the server's own values written as ISO literals, never text from a request.
    now, soon = f"'{today.isoformat()}'", f"'{(today + timedelta(days=soon_days)).isoformat()}'"
    open_tasks = f"FROM {schedules} s WHERE s.work_id = t.id AND s.closed_on IS NULL"
    overdue = f"(SELECT count(*) {open_tasks} AND {due} < {now})"
    due_soon = f"(SELECT count(*) {open_tasks} AND {due} >= {now} AND {due} <= {soon})"
    latest = f"FROM {inspections} i WHERE i.work_id = t.id ORDER BY i.inspected_on DESC, i.id DESC LIMIT 1"
    condition = f"(SELECT i.condition {latest})"
    bad = ", ".join(f"'{c}'" for c in BAD_CONDITIONS)
    status = (f"CASE WHEN {condition} IN ({bad}) THEN 'poor_condition' WHEN {overdue} > 0 THEN 'overdue' "
              f"WHEN {due_soon} > 0 THEN 'due_soon' END")
    return Layer(
        table=Work._meta.db_table,
        spatial_index="geometry",
        properties={
            "code": "t.code", "name": "t.name", "category": "t.category", "stage": "t.stage",
            "commune": "c.name", "status": status, "condition": condition, "inspected_on": f"(SELECT i.inspected_on {latest})",
            "overdue_tasks": overdue, "due_soon_tasks": due_soon, "next_due": f"(SELECT min({due}) {open_tasks})",
            "is_demo": json_bool("t.is_demo"),
        },
        joins=f"LEFT JOIN {AdminUnit._meta.db_table} c ON c.id = t.current_commune_id",
    )


def maintenance_geojson(*, user, commune: AdminUnit | None = None, today: date | None = None,
                        soon_days: int = DUE_SOON_DAYS) -> str:
    """Return the works the person may see that are overdue, due soon or in poor condition, as GeoJSON built in the database."""
    today = today or timezone.localdate()
    due = Schedule.objects.filter(work=OuterRef("pk"), closed_on__isnull=True).annotate(due=NextDue()).filter(
        due__lte=today + timedelta(days=soon_days))
    latest = Inspection.objects.filter(work=OuterRef("pk")).order_by("-inspected_on", "-id").values("condition")[:1]
    works = (works_in_scope(user=user, commune=commune)
             .annotate(latest_condition=Subquery(latest))
             .filter(Exists(due) | Q(latest_condition__in=BAD_CONDITIONS)))
    # The policy's queryset is the match query, so the layer shows exactly what the policy allows.
    match = works.order_by().values("id").query.sql_with_params()
    return feature_collection(_maintenance_layer(today=today, soon_days=soon_days), match=match)
