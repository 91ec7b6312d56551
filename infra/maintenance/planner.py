"""The yearly maintenance plan: rank the tasks, then fund them in order without passing the budget.

Pure logic over plain data (no database): `infra.maintenance.selectors.plan_candidates` feeds it,
the benchmark feeds it synthetic data. docs/maintenance.md explains the same rules for readers.

Which tasks
    Every open task whose next due date falls on or before 31 December of the plan year. The plan
    period starts on 1 January of the year, or today when planning the current year.

What a line costs
    A line is one task for the whole year. A recurring task is done every `interval_months`
    from its first round (its due date, or the start of the period when it is already overdue)
    to 31 December; the line costs the task's estimated cost times those rounds. A one-off task
    (a repair) is one round.

How lines rank (first difference decides)
    1. Urgent first: the task is overdue at the start of the period (its due date has passed,
       or it falls due before the plan year begins), or the work's latest inspection rated it
       failed.
    2. Condition from the work's latest inspection: failed, poor, fair, not inspected, good.
    3. Value for money: weighted households served per million VND of the line's cost, highest
       first. Weighted households = beneficiary households + 2 × poor households (a poor
       household counts three times, DOMAIN.md: priority to the poor). A line that costs
       nothing ranks first within its group.
    4. Then more weighted households, then the cheaper line, the earlier due date, and the
       task id (so the order is total and repeatable).

How the budget is spent (first fit)
    Walk down the ranking; fund each line that fits in what is left, and skip (list as outside
    the budget) each line that does not. A skipped line does not stop the walk, so a cheaper,
    lower-ranked line can still use the remainder. Hence: the funded total never exceeds the
    budget, and every line left out costs more than what is left at the end.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from infra.money import format_vnd
from infra.numbers import whole_number

__all__ = [
    "CONDITION_ORDER",
    "MAX_YEAR",
    "MIN_YEAR",
    "Candidate",
    "Plan",
    "PlanLine",
    "build_plan",
    "check_inputs",
    "line_reasons",
    "weighted_households",
]

MIN_YEAR, MAX_YEAR = 2000, 2100
# A million billion VND: far above any district's upkeep, and below 2**53, so that a workbook (whose numbers are
# floating point) holds every budget to the đồng.
BUDGET_MAX = 10**15
# Worst first; None is a work never inspected, placed between what is known to be fair and good.
CONDITION_ORDER: dict[str | None, int] = {"failed": 0, "poor": 1, "fair": 2, None: 3, "good": 4}
POOR_WEIGHT = 2  # extra weight of a poor household on top of counting it as a household


@dataclass(frozen=True, slots=True)
class Candidate:
    """One open task and what the plan needs to know about its work."""

    schedule_id: int
    work_id: int
    work_code: str
    work_name: str
    task_kind: str
    next_due: date
    unit_cost: int | None               # estimated cost of one round, VND; None: not estimated
    interval_months: int | None = None  # None: a one-off task
    households: int = 0
    poor_households: int = 0
    condition: str | None = None        # the work's latest inspection
    inspected_on: date | None = None
    commune: str = ""
    description: str = ""
    responsible: str = ""
    is_demo: bool = False


@dataclass(slots=True)
class PlanLine:
    """A ranked task for the year, funded or not, with what the ranking and the budget made of it."""

    rank: int
    candidate: Candidate
    rounds: int
    cost: int
    overdue: bool
    failed: bool
    weighted: int
    value: float          # weighted households per million VND (inf when free)
    funded: bool = False
    left_before: int = 0  # budget left when the line was considered
    left_after: int = 0

    @property
    def urgent(self) -> bool:
        return self.overdue or self.failed

    @property
    def estimated(self) -> bool:
        """Whether the task has a cost estimate (one without is never funded: line_reasons says why)."""
        return self.candidate.unit_cost is not None


@dataclass
class Plan:
    year: int
    budget: int
    start: date
    end: date
    lines: list[PlanLine] = field(default_factory=list)  # all, in rank order
    left_out: list = field(default_factory=list)  # tasks due on works not in use, not planned (selectors.tasks_left_out)

    @property
    def funded(self) -> list[PlanLine]:
        return [line for line in self.lines if line.funded]

    @property
    def outside(self) -> list[PlanLine]:
        return [line for line in self.lines if not line.funded]

    @property
    def total(self) -> int:
        return sum(line.cost for line in self.lines if line.funded)

    @property
    def demo_total(self) -> int:
        """What the planned total spends on synthetic (demo) tasks, which compete for the same budget."""
        return sum(line.cost for line in self.lines if line.funded and line.candidate.is_demo)

    @property
    def left(self) -> int:
        return self.budget - self.total

    @property
    def demand(self) -> int:
        return sum(line.cost for line in self.lines)

    @property
    def unestimated(self) -> int:
        """How many lines have no cost estimate (in no sum: listed last, never funded)."""
        return sum(1 for line in self.lines if not line.estimated)


def check_inputs(*, year: object, budget: object) -> tuple[int, int]:
    """Return the year and budget as integers, or raise ValidationError saying what is wrong with each."""
    errors: dict[str, str] = {}
    checked_year = checked_budget = 0
    try:
        checked_year = _integer(year)
        if not MIN_YEAR <= checked_year <= MAX_YEAR:
            raise ValueError
    except (TypeError, ValueError):
        errors["year"] = _("The year must be a whole number from %(min)s to %(max)s.") % {"min": MIN_YEAR, "max": MAX_YEAR}
    try:
        checked_budget = whole_number(budget)  # 500.000.000 as people write it (infra.numbers)
        if checked_budget < 0:
            errors["budget"] = _("The budget cannot be negative.")
        elif checked_budget > BUDGET_MAX:
            errors["budget"] = _("The budget can be at most %(max)s VND.") % {"max": format_vnd(BUDGET_MAX)}
    except (TypeError, ValueError):
        errors["budget"] = _("The budget must be a whole number of VND, for example 500000000.")
    if errors:
        raise ValidationError(errors)
    return checked_year, checked_budget


def _integer(value: object) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text or not (text.isdigit() or (text[0] in "+-" and text[1:].isdigit())) or not text.isascii():
        raise ValueError
    return int(text)


def plan_period(*, year: int, today: date) -> tuple[date, date]:
    """Return the first and last day the plan covers: from today in the current year, else the whole year."""
    return (today if year == today.year else date(year, 1, 1)), date(year, 12, 31)


def weighted_households(households: int, poor_households: int) -> int:
    return households + POOR_WEIGHT * poor_households


def rounds_in_period(*, next_due: date, interval_months: int | None, start: date, end: date) -> int:
    """Return how many times a task is done between start and end if each round is done when due."""
    if next_due > end:
        return 0
    if interval_months is None:
        return 1
    first = max(next_due, start)
    # Clamping at a month's end moves the day, never the month, so counting months is exact.
    months_left = (end.year * 12 + end.month) - (first.year * 12 + first.month)
    return 1 + months_left // interval_months


def build_plan(candidates: Iterable[Candidate], *, year: int, budget: int, today: date) -> Plan:
    """Rank the candidates due by the end of `year` and fund them first-fit within `budget` (see the module docstring)."""
    year, budget = check_inputs(year=year, budget=budget)
    start, end = plan_period(year=year, today=today)
    ranked = []
    for candidate in candidates:
        rounds = rounds_in_period(next_due=candidate.next_due, interval_months=candidate.interval_months, start=start, end=end)
        if rounds == 0:
            continue
        # A task not estimated costs nothing in the sums and is never funded: it is ranked after every estimated
        # line, so that it is listed (outside the budget, saying why) and takes no budget from those below it.
        estimated = candidate.unit_cost is not None
        cost = rounds * candidate.unit_cost if estimated else 0
        weighted = weighted_households(candidate.households, candidate.poor_households)
        value = math.inf if cost == 0 else weighted * 1_000_000 / cost
        overdue = candidate.next_due < start
        failed = candidate.condition == "failed"
        key = (
            0 if estimated else 1,
            0 if (overdue or failed) else 1,
            CONDITION_ORDER.get(candidate.condition, CONDITION_ORDER[None]),
            -value,
            -weighted,
            cost,
            candidate.next_due,
            candidate.schedule_id,
        )
        ranked.append((key, PlanLine(rank=0, candidate=candidate, rounds=rounds, cost=cost, overdue=overdue, failed=failed,
                                     weighted=weighted, value=value)))
    ranked.sort(key=lambda pair: pair[0])
    plan = Plan(year=year, budget=budget, start=start, end=end)
    left = budget
    for rank, (_key, line) in enumerate(ranked, start=1):
        line.rank = rank
        line.left_before = left
        if line.estimated and line.cost <= left:
            line.funded = True
            left -= line.cost
        line.left_after = left
        plan.lines.append(line)
    return plan


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def line_reasons(line: PlanLine, *, plan: Plan, today: date) -> list[str]:
    """Return, in the active language, why the line ranks where it does and why it is in or out of the budget."""
    c = line.candidate
    reasons = []
    if line.overdue and c.next_due < today:
        reasons.append(_("Overdue since %(date)s") % {"date": _day(c.next_due)})
    elif line.overdue:
        reasons.append(_("Falls due on %(date)s, before the plan year begins") % {"date": _day(c.next_due)})
    else:
        reasons.append(_("Due on %(date)s") % {"date": _day(c.next_due)})
    if c.condition is None:
        reasons.append(_("Not inspected yet"))
    else:
        reasons.append(_("Latest inspection (%(date)s): %(condition)s")
                       % {"date": _day(c.inspected_on) if c.inspected_on else "—", "condition": _condition_label(c.condition)})
    reasons.append(_("Serves %(households)s households, %(poor)s of them poor: %(weighted)s weighted households")
                   % {"households": c.households, "poor": c.poor_households, "weighted": line.weighted})
    if not line.estimated:
        reasons.append(_("No cost estimate yet: give the task an estimate to plan it"))
    elif line.cost == 0:
        reasons.append(_("Costs nothing from the budget"))
    else:
        reasons.append(_("%(value)s weighted households per million VND")
                       % {"value": number_format(line.value, 1, force_grouping=True)})
    if line.rounds > 1 and line.estimated:
        reasons.append(ngettext("%(rounds)s round in the year at %(cost)s VND",
                                "%(rounds)s rounds in the year at %(cost)s VND each", line.rounds)
                       % {"rounds": line.rounds, "cost": format_vnd(c.unit_cost)})
    if line.funded:
        reasons.append(_("Within the budget: %(left)s VND left after it") % {"left": format_vnd(line.left_after)})
    elif not line.estimated:
        pass  # said above
    else:
        reasons.append(_("Outside the budget: it costs %(cost)s VND and only %(left)s VND was left after higher-ranked lines")
                       % {"cost": format_vnd(line.cost), "left": format_vnd(line.left_before)})
    return reasons


def _condition_label(value: str) -> str:
    from infra.maintenance.models import Condition  # labels only: the planner itself never touches the ORM

    return str(Condition(value).label)
