"""Default maintenance tasks per category, applied when a work is handed over (data, not code).

Each task says how often it recurs, who usually does it and what one round costs as a share of
the work's approved total investment (rounded to 100,000 VND). The shares follow the spread the
demo data uses (routine 0.2–0.8 %, periodic 3–6 % of the investment) and are estimates to be
edited per work; nothing here is a legal norm. Descriptions are stored in the register's
language (settings.LANGUAGE_CODE) when the schedule is created.

A poor or failed inspection proposes a one-off repair costed the same way (REPAIR_SHARE).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from infra.maintenance.models import Condition, ResponsibleKind, TaskKind
from infra.works.choices import Category

__all__ = ["COST_STEP", "REPAIR_SHARE", "TEMPLATES", "TaskTemplate", "estimate_cost"]

COST_STEP = 100_000  # VND: estimates are rounded to this


@dataclass(frozen=True)
class TaskTemplate:
    task_kind: str
    interval_months: int
    description: Promise
    responsible: str
    cost_share: Decimal  # of the work's approved total investment, per round


def _routine(months: int, description: Promise, responsible: str, share: str) -> TaskTemplate:
    return TaskTemplate(TaskKind.ROUTINE, months, description, responsible, Decimal(share))


def _periodic(months: int, description: Promise, responsible: str, share: str) -> TaskTemplate:
    return TaskTemplate(TaskKind.PERIODIC, months, description, responsible, Decimal(share))


_COMMUNE, _COMMUNITY, _CONTRACTOR = ResponsibleKind.COMMUNE_COMMITTEE, ResponsibleKind.COMMUNITY, ResponsibleKind.CONTRACTOR

TEMPLATES: dict[str, tuple[TaskTemplate, ...]] = {
    Category.ROAD: (
        _routine(3, _("Routine upkeep: clear vegetation, open the side drains, patch potholes"), _COMMUNE, "0.005"),
        _periodic(24, _("Periodic maintenance of the road surface and drainage structures"), _COMMUNE, "0.04"),
    ),
    Category.WATER: (
        _routine(3, _("Quarterly check of the source, intake and pipes; clean the tank"), _COMMUNITY, "0.005"),
        _periodic(12, _("Yearly flushing of the pipes and water-quality test"), _COMMUNITY, "0.015"),
    ),
    Category.IRRIGATION: (
        _routine(6, _("Dredge the canal, check the intake and gates"), _COMMUNITY, "0.006"),
        _periodic(24, _("Repair canal lining, weir and gates"), _COMMUNE, "0.03"),
    ),
    Category.BRIDGE: (
        _routine(6, _("Check abutments, deck and railings; clear debris after floods"), _COMMUNE, "0.004"),
        _periodic(36, _("Periodic maintenance: repaint steelwork, repair deck and joints"), _CONTRACTOR, "0.03"),
    ),
    Category.ELECTRICITY: (
        _routine(6, _("Check lines, poles and transformer; clear vegetation under the lines"), _CONTRACTOR, "0.004"),
        _periodic(36, _("Periodic maintenance of the transformer and connections"), _CONTRACTOR, "0.02"),
    ),
    Category.HEALTH: (
        _routine(12, _("Yearly check of roof, electrics, water supply and sanitation"), _COMMUNE, "0.005"),
        _periodic(60, _("Repaint and repair roof, doors and fittings"), _COMMUNE, "0.03"),
    ),
    Category.SCHOOL: (
        _routine(12, _("Check classrooms, roof, electrics and toilets before the school year"), _COMMUNE, "0.005"),
        _periodic(60, _("Repaint and repair roof, doors, desks and fittings"), _COMMUNE, "0.03"),
    ),
    Category.CULTURE: (
        _routine(12, _("Yearly check of the building and grounds"), _COMMUNITY, "0.005"),
        _periodic(60, _("Repaint and repair roof, doors and fittings"), _COMMUNE, "0.03"),
    ),
    Category.OTHER: (
        _routine(12, _("Yearly check and upkeep of the work"), _COMMUNE, "0.005"),
    ),
}

# A one-off repair proposed by an inspection, as a share of the work's investment.
REPAIR_SHARE: dict[str, Decimal] = {Condition.POOR: Decimal("0.05"), Condition.FAILED: Decimal("0.15")}


def estimate_cost(*, investment: int | None, share: Decimal) -> int | None:
    """Return a cost estimate: a share of the investment rounded to COST_STEP; None (no estimate, not "free") when
    the investment is unknown."""
    if not investment or investment <= 0:
        return None
    rounded = int((Decimal(investment) * share / COST_STEP).to_integral_value()) * COST_STEP
    return max(COST_STEP, rounded)
