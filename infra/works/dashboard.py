"""What the board's dashboard shows: works by stage and commune, money, late works, findings."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from infra.works.choices import STAGE_ORDER, Stage
from infra.works.models import Work

__all__ = ["Bar", "bars", "late_works", "stage_by_commune"]

# Stages before the work should have started, and before it should have been finished.
_NOT_STARTED = STAGE_ORDER[: STAGE_ORDER.index(Stage.UNDER_CONSTRUCTION)]
_NOT_FINISHED = STAGE_ORDER[: STAGE_ORDER.index(Stage.COMPLETED)]


def late_works(works: QuerySet[Work], *, today: date) -> QuerySet[Work]:
    """Return works past a planned date without having reached it (computed, never stored)."""
    return works.filter(
        Q(planned_end__lt=today, stage__in=_NOT_FINISHED) | Q(planned_start__lt=today, stage__in=_NOT_STARTED)
    ).select_related("current_commune").order_by("planned_end", "code")


def stage_by_commune(works: QuerySet[Work]) -> tuple[list[str], list[dict]]:
    """Return the stages in order and one row per current commune with a count per stage."""
    counts = works.values("current_commune__name", "stage").annotate(n=Count("id")).order_by()
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts:
        rows[row["current_commune__name"] or "—"][row["stage"]] += row["n"]
    stages = [s.value for s in Stage]
    table = [{"commune": name, "counts": [rows[name][s] for s in stages], "total": sum(rows[name].values())}
             for name in sorted(rows)]
    return stages, table


@dataclass(frozen=True)
class Bar:
    """One bar of a chart drawn as inline SVG (no chart library, nothing fetched)."""

    label: str
    value: int
    percent: float


def bars(rows: list[dict], *, label: str, value: str) -> list[Bar]:
    peak = max((row[value] for row in rows), default=0) or 1
    return [Bar(label=str(row[label]), value=row[value], percent=round(100 * row[value] / peak, 1)) for row in rows]
