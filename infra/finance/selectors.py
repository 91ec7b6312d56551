"""Reconciliation of the money: what the documents state against what the rows add up to.

Findings are reported, never "fixed": a legal document's figures stay as written. Reversals
(rows whose ``reverses`` is set) subtract, and count against the row they reverse.
All sums are computed in the database; amounts are integer VND.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import BigIntegerField, Case, F, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from gis.models import AdminUnit
from infra.finance.models import Allocation, CapitalDecision, CapitalKind, CapitalPlan, Disbursement, ProgrammeNode, Source

__all__ = [
    "Finding", "money_by_commune", "money_by_programme_line", "money_by_source", "money_summary", "reconciliation_findings",
]


@dataclass(frozen=True)
class Finding:
    """One discrepancy: what should hold (expected), what the rows say (actual), and by how much."""

    code: str
    message: str
    expected: int
    actual: int
    difference: int


def _vnd(amount: int) -> str:
    # Formatted only here, at the edge, with the active language's separator (82.075.000.000 in vi).
    # Grouped by hand: Django's vi locale sets no NUMBER_GROUPING, so number_format would not group.
    return f"{amount:,}".replace(",", get_format("THOUSAND_SEPARATOR"))


def _signed_amount() -> Case:
    return Case(When(reverses__isnull=True, then=F("amount")), default=-F("amount"), output_field=BigIntegerField())


def _net_by(queryset: QuerySet, *, owner: str) -> dict[int, int]:
    """Return the net amount (reversals subtracted) per owner id.

    ``owner`` is a path from the row to the owner's id; a reversal counts against the owner of
    the row it reverses, so a reversal recorded on the wrong line cannot hide an excess.
    """
    rows = (
        queryset.annotate(owner=Coalesce(f"reverses__{owner}", owner, output_field=BigIntegerField()))
        .values("owner")
        .annotate(net=Sum(_signed_amount()))
        .order_by()
    )
    return {row["owner"]: row["net"] or 0 for row in rows}


def demo_money() -> dict[str, int]:
    """Return the synthetic (is_demo) money the totals hold, net of reversals: what the dashboard says is demo."""
    allocated = Allocation.objects.filter(is_demo=True).aggregate(net=Coalesce(Sum(_signed_amount()), 0))["net"]
    disbursed = Disbursement.objects.filter(is_demo=True).aggregate(net=Coalesce(Sum(_signed_amount()), 0))["net"]
    return {"allocated": int(allocated), "disbursed": int(disbursed)}


def _decision_findings() -> list[Finding]:
    findings = []
    decisions = CapitalDecision.objects.annotate(
        plans_total=Coalesce(Sum("plans__amount"), Value(0), output_field=BigIntegerField())
    ).order_by("issued_on", "number")
    for decision in decisions:
        if decision.plans_total == decision.stated_total:
            continue
        difference = decision.plans_total - decision.stated_total
        findings.append(
            Finding(
                code="decision_total_mismatch",
                message=_(
                    "Decision %(number)s states a total of %(expected)s VND, but its capital plans add up to "
                    "%(actual)s VND (difference %(difference)s VND). The figures are kept as stated."
                )
                % {
                    "number": decision.number,
                    "expected": _vnd(decision.stated_total),
                    "actual": _vnd(decision.plans_total),
                    "difference": _vnd(difference),
                },
                expected=decision.stated_total,
                actual=decision.plans_total,
                difference=difference,
            )
        )
    return findings


def _plan_findings() -> list[Finding]:
    findings = []
    allocated = _net_by(Allocation.objects.all(), owner="capital_plan")
    plans = CapitalPlan.objects.filter(pk__in=list(allocated)).select_related("decision").order_by("year", "kind", "source", "pk")
    for plan in plans:
        net = allocated[plan.pk]
        if net <= plan.amount:
            continue
        findings.append(
            Finding(
                code="plan_over_allocated",
                message=_(
                    "Capital plan %(plan)s under decision %(number)s is allocated %(actual)s VND, "
                    "more than its %(expected)s VND (by %(difference)s VND)."
                )
                % {
                    "plan": str(plan),
                    "number": plan.decision.number,
                    "actual": _vnd(net),
                    "expected": _vnd(plan.amount),
                    "difference": _vnd(net - plan.amount),
                },
                expected=plan.amount,
                actual=net,
                difference=net - plan.amount,
            )
        )
    return findings


def _allocation_findings() -> list[Finding]:
    findings = []
    disbursed = _net_by(Disbursement.objects.all(), owner="allocation")
    reversed_amounts = {
        row["reverses"]: row["total"]
        for row in Allocation.objects.filter(reverses__isnull=False).values("reverses").annotate(total=Sum("amount")).order_by()
    }
    originals = (
        Allocation.objects.filter(reverses__isnull=True, pk__in=set(disbursed) | set(reversed_amounts))
        .select_related("programme_line", "work")
        .order_by("allocated_on", "pk")
    )
    for allocation in originals:
        reversed_amount = reversed_amounts.get(allocation.pk, 0)
        if reversed_amount > allocation.amount:
            findings.append(
                Finding(
                    code="allocation_over_reversed",
                    message=_("Allocation %(allocation)s of %(expected)s VND has reversals totalling %(actual)s VND.")
                    % {
                        "allocation": str(allocation),
                        "expected": _vnd(allocation.amount),
                        "actual": _vnd(reversed_amount),
                    },
                    expected=allocation.amount,
                    actual=reversed_amount,
                    difference=reversed_amount - allocation.amount,
                )
            )
        net_allocated = allocation.amount - reversed_amount
        paid = disbursed.get(allocation.pk, 0)
        if paid > net_allocated:
            findings.append(
                Finding(
                    code="allocation_over_disbursed",
                    message=_(
                        "Allocation %(allocation)s has %(actual)s VND disbursed against %(expected)s VND allocated "
                        "(net of reversals), %(difference)s VND too much."
                    )
                    % {
                        "allocation": str(allocation),
                        "actual": _vnd(paid),
                        "expected": _vnd(net_allocated),
                        "difference": _vnd(paid - net_allocated),
                    },
                    expected=net_allocated,
                    actual=paid,
                    difference=paid - net_allocated,
                )
            )
    return findings


def reconciliation_findings() -> list[Finding]:
    """Return every discrepancy between stated totals, capital plans, allocations and disbursements."""
    return _decision_findings() + _plan_findings() + _allocation_findings()


def money_summary(*, year: int | None = None) -> list[dict[str, object]]:
    """Return plan, allocated, disbursed and what remains, per year, source and kind (integer VND).

    ``unallocated`` is plan − allocated; ``remaining`` is plan − disbursed (còn lại chưa giải ngân).
    Allocations and disbursements are net of reversals.
    """
    plans = CapitalPlan.objects.all()
    if year is not None:
        plans = plans.filter(year=year)
    rows = plans.values_list("pk", "year", "source", "kind", "amount")
    plan_keys = {pk: (y, source, kind) for pk, y, source, kind, _amount in rows}
    allocated = _net_by(Allocation.objects.filter(capital_plan__in=plans), owner="capital_plan")
    disbursed = _net_by(Disbursement.objects.filter(allocation__capital_plan__in=plans), owner="allocation__capital_plan")
    totals: dict[tuple[int, str, str], dict[str, int]] = defaultdict(lambda: {"plan": 0, "allocated": 0, "disbursed": 0})
    for pk, *_key, amount in rows:
        totals[plan_keys[pk]]["plan"] += amount
    for plan_id, net in allocated.items():
        if plan_id in plan_keys:
            totals[plan_keys[plan_id]]["allocated"] += net
    for plan_id, net in disbursed.items():
        if plan_id in plan_keys:
            totals[plan_keys[plan_id]]["disbursed"] += net
    return [
        {
            "year": y,
            "source": source,
            "kind": kind,
            "source_label": str(Source(source).label),
            "kind_label": str(CapitalKind(kind).label),
            **amounts,
            "unallocated": amounts["plan"] - amounts["allocated"],
            "remaining": amounts["plan"] - amounts["disbursed"],
        }
        for (y, source, kind), amounts in sorted(totals.items())
    ]


def _totals(allocations: QuerySet, disbursements: QuerySet, key_alloc: str, key_disb: str) -> dict:
    totals: dict = defaultdict(lambda: {"allocated": 0, "disbursed": 0})
    for row in allocations.values(key_alloc).annotate(total=Coalesce(Sum(_signed_amount()), 0)).order_by():
        totals[row[key_alloc]]["allocated"] += row["total"]
    for row in disbursements.values(key_disb).annotate(total=Coalesce(Sum(_signed_amount()), 0)).order_by():
        totals[row[key_disb]]["disbursed"] += row["total"]
    return totals


def money_by_programme_line() -> list[dict]:
    """Return allocated and disbursed money per programme line (net of reversals)."""
    totals = _totals(Allocation.objects.all(), Disbursement.objects.all(), "programme_line", "allocation__programme_line")
    lines = ProgrammeNode.objects.in_bulk(list(totals))
    return [{"line": lines[pk], **values} for pk, values in sorted(totals.items(), key=lambda kv: lines[kv[0]].code)]


def money_by_commune() -> list[dict]:
    """Return allocated and disbursed money per current commune of the works, then one row for the money tied
    to no work, so that the rows add up to the totals by year, source and kind. Kept by the commune itself,
    not its name (two communes may share one), and a work without a commune has its row ("—")."""
    totals = _totals(Allocation.objects.filter(work__isnull=False), Disbursement.objects.filter(allocation__work__isnull=False),
                     "work__current_commune", "allocation__work__current_commune")
    names = dict(AdminUnit.objects.filter(pk__in=[pk for pk in totals if pk is not None]).values_list("pk", "name"))
    rows = sorted(({"commune": names[pk] if pk is not None else "—", "unit": pk, **values} for pk, values in totals.items()),
                  key=lambda row: (row["unit"] is None, row["commune"], row["unit"] or 0))
    loose = _totals(Allocation.objects.filter(work__isnull=True), Disbursement.objects.filter(allocation__work__isnull=True),
                    "work", "allocation__work").get(None)
    if loose and (loose["allocated"] or loose["disbursed"]):
        rows.append({"commune": _("not tied to a work"), "unit": None, **loose})
    return rows


def money_by_source(summary: list[dict]) -> list[dict]:
    """Fold the reconciliation summary (per year, source, kind) into one row per source."""
    folded: dict = defaultdict(lambda: {"plan": 0, "allocated": 0, "disbursed": 0})
    for row in summary:
        for key in ("plan", "allocated", "disbursed"):
            folded[row["source"]][key] += row[key]
    return [{"source": Source(source).label, **values} for source, values in folded.items()]
