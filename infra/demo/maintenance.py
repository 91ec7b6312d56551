"""Maintenance of the finished demo works: schedules, what was done, what inspectors found.

Some schedules are kept, some lapsed, some never started, so the planner has overdue work to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from infra.demo import CHANGE_REASON, LAST_DAY
from infra.demo.area import DemoArea
from infra.demo.lifecycle import WorkSpec
from infra.maintenance.models import Condition, Inspection, Record, ResponsibleKind, Schedule, TaskKind
from infra.works.choices import Category, Stage
from infra.works.models import Work

__all__ = ["ScheduleSpec", "maintenance_plans", "maintenance_save"]

# (task, interval in months or None for "6 or 12", what is done) per category.
_TASKS: dict[str, list[tuple[str, int | None, str]]] = {
    Category.ROAD: [
        (TaskKind.ROUTINE, 3, "Duy tu thường xuyên: phát quang, khơi thông rãnh dọc, vá ổ gà"),
        (TaskKind.PERIODIC, 24, "Bảo dưỡng định kỳ mặt đường và công trình thoát nước"),
    ],
    Category.WATER: [(TaskKind.ROUTINE, 3, "Kiểm tra nguồn và đường ống")],
    Category.IRRIGATION: [(TaskKind.ROUTINE, 6, "Nạo vét kênh, kiểm tra cửa lấy nước")],
    Category.BRIDGE: [(TaskKind.ROUTINE, 6, "Kiểm tra mố, mặt cầu và lan can; dọn rác trôi")],
}
_DEFAULT_TASK = (TaskKind.ROUTINE, None, "Kiểm tra, duy tu công trình")
_RESPONSIBLE = {
    Category.WATER: ResponsibleKind.COMMUNITY,
    Category.IRRIGATION: ResponsibleKind.COMMUNITY,
    Category.ELECTRICITY: ResponsibleKind.CONTRACTOR,
}
_FINDINGS = {
    Condition.GOOD: "Công trình hoạt động bình thường.",
    Condition.FAIR: "Xuống cấp nhẹ, cần duy tu trong kỳ tới.",
    Condition.POOR: "Hư hỏng cục bộ, cần sửa chữa sớm.",
    Condition.FAILED: "Hư hỏng nặng, không sử dụng được; đề nghị sửa chữa khẩn cấp.",
}


@dataclass
class ScheduleSpec:
    work_code: str
    task: str
    interval: int
    description: str
    starts_on: date
    responsible: str
    cost: int
    done: list[tuple[date, int]] = field(default_factory=list)


def _round(*, amount: float, step: int) -> int:
    return max(step, round(amount / step) * step)


def _done(*, rng: random.Random, first_due: date, interval: int) -> list[date]:
    """Return the days the task was done: kept up, lapsed after a while, or never done."""
    habit = rng.choice(["kept", "kept", "lapsed", "never"])
    if habit == "never":
        return []
    days, due = [], first_due
    while due <= LAST_DAY:
        done_on = min(due + timedelta(days=rng.randint(0, 20)), LAST_DAY)
        days.append(done_on)
        due = done_on + relativedelta(months=interval)
    if habit == "lapsed" and len(days) > 1:
        days = days[: rng.randint(1, len(days) - 1)]
    return days[-4:]  # the register keeps the recent ones; older records were on paper


def maintenance_plans(*, rng: random.Random, specs: list[WorkSpec]) -> list[ScheduleSpec]:
    """Plan schedules and records for every handed-over or operating work."""
    plans = []
    for spec in specs:
        handed = spec.reached(Stage.HANDED_OVER)
        if handed is None or spec.stage not in (Stage.HANDED_OVER, Stage.IN_OPERATION):
            continue
        for task, interval, description in _TASKS.get(spec.draft.category, [_DEFAULT_TASK]):
            months = interval or rng.choice([6, 12])
            share = rng.uniform(0.03, 0.06) if task == TaskKind.PERIODIC else rng.uniform(0.002, 0.008)
            cost = _round(amount=spec.total_investment * share, step=100_000)
            starts_on = handed.on + relativedelta(months=months)
            done = [
                (day, _round(amount=cost * rng.uniform(0.8, 1.25), step=1_000))
                for day in _done(rng=rng, first_due=starts_on, interval=months)
            ]
            plans.append(
                ScheduleSpec(
                    work_code=spec.code,
                    task=task,
                    interval=months,
                    description=description,
                    starts_on=starts_on,
                    responsible=_RESPONSIBLE.get(spec.draft.category, ResponsibleKind.COMMUNE_COMMITTEE),
                    cost=cost,
                    done=done,
                )
            )
    return plans


def _save(row: Schedule | Record | Inspection) -> None:
    row._change_reason = CHANGE_REASON
    row.full_clean()
    row.save()


def _inspections(*, rng: random.Random, spec: WorkSpec, work: Work, area: DemoArea) -> None:
    handed = spec.reached(Stage.HANDED_OVER)
    first = handed.on + timedelta(days=60)
    if first > LAST_DAY:
        return
    for _n in range(rng.randint(1, 2)):
        day = first + timedelta(days=rng.randint(0, (LAST_DAY - first).days))
        condition = rng.choices(list(Condition), weights=[0.4, 0.35, 0.18, 0.07])[0]
        inspector = rng.choice(
            [f"Cán bộ Địa chính – Xây dựng {area.communes[spec.draft.commune_code].in_text}", "Ban giám sát đầu tư của cộng đồng"]
        )
        _save(
            Inspection(
                work=work, inspected_on=day, inspector=inspector, condition=condition, notes=_FINDINGS[condition], is_demo=True
            )
        )


def maintenance_save(
    *, rng: random.Random, plans: list[ScheduleSpec], specs: list[WorkSpec], works: dict[str, Work], area: DemoArea
) -> None:
    """Write schedules with their records, and inspections of about half the maintained works."""
    for plan in plans:
        # Handing a work over already gave it its category's default tasks; the demo fills those in
        # (one schedule per task kind) rather than adding a second one beside them.
        work = works[plan.work_code]
        schedule = (Schedule.objects.filter(work=work, task_kind=plan.task, closed_on__isnull=True).order_by("pk").first()
                    or Schedule(work=work, task_kind=plan.task))
        schedule.description = plan.description
        schedule.interval_months = plan.interval
        schedule.last_done = plan.done[-1][0] if plan.done else None
        schedule.starts_on = plan.starts_on
        schedule.responsible = plan.responsible
        schedule.estimated_cost = plan.cost
        schedule.is_demo = True
        _save(schedule)
        for day, cost in plan.done:
            _save(
                Record(work=schedule.work, schedule=schedule, done_on=day, cost=cost, description=plan.description, is_demo=True)
            )
    maintained = {plan.work_code for plan in plans}
    for spec in specs:
        if spec.code in maintained and rng.random() < 0.5:
            _inspections(rng=rng, spec=spec, work=works[spec.code], area=area)
