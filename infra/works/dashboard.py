"""What the board's dashboard shows: works by stage and commune, money, late works, findings."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import BigIntegerField, Case, Count, F, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce

from infra.finance.models import Allocation, Disbursement, ProgrammeNode, Source
from infra.works.choices import STAGE_ORDER, Stage
from infra.works.models import Work

__all__ = ["Bar", "bars", "late_works", "money_by_commune", "money_by_programme_line", "money_by_source", "stage_by_commune"]

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


def _signed(field: str = "amount") -> Case:
    return Case(When(reverses__isnull=True, then=F(field)), default=-F(field), output_field=BigIntegerField())


def _totals(allocations: QuerySet, disbursements: QuerySet, key_alloc: str, key_disb: str) -> dict:
    totals: dict = defaultdict(lambda: {"allocated": 0, "disbursed": 0})
    for row in allocations.values(key_alloc).annotate(total=Coalesce(Sum(_signed()), 0)).order_by():
        totals[row[key_alloc]]["allocated"] += row["total"]
    for row in disbursements.values(key_disb).annotate(total=Coalesce(Sum(_signed()), 0)).order_by():
        totals[row[key_disb]]["disbursed"] += row["total"]
    return totals


def money_by_programme_line() -> list[dict]:
    """Return allocated and disbursed money per programme line (net of reversals)."""
    totals = _totals(Allocation.objects.all(), Disbursement.objects.all(), "programme_line", "allocation__programme_line")
    lines = ProgrammeNode.objects.in_bulk(list(totals))
    return [{"line": lines[pk], **values} for pk, values in sorted(totals.items(), key=lambda kv: lines[kv[0]].code)]


def money_by_commune() -> list[dict]:
    """Return allocated and disbursed money per current commune of the works."""
    totals = _totals(Allocation.objects.filter(work__isnull=False), Disbursement.objects.filter(allocation__work__isnull=False),
                     "work__current_commune__name", "allocation__work__current_commune__name")
    return [{"commune": name or "—", **values} for name, values in sorted(totals.items(), key=lambda kv: kv[0] or "")]


def money_by_source(summary: list[dict]) -> list[dict]:
    """Fold the reconciliation summary (per year, source, kind) into one row per source."""
    folded: dict = defaultdict(lambda: {"plan": 0, "allocated": 0, "disbursed": 0})
    for row in summary:
        for key in ("plan", "allocated", "disbursed"):
            folded[row["source"]][key] += row[key]
    return [{"source": Source(source).label, **values} for source, values in folded.items()]


@dataclass(frozen=True)
class Bar:
    """One bar of a chart drawn as inline SVG (no chart library, nothing fetched)."""

    label: str
    value: int
    percent: float


def bars(rows: list[dict], *, label: str, value: str) -> list[Bar]:
    peak = max((row[value] for row in rows), default=0) or 1
    return [Bar(label=str(row[label]), value=row[value], percent=round(100 * row[value] / peak, 1)) for row in rows]
