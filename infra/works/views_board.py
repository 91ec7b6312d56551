"""The board's pages: the dashboard and a work's full history."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from infra.accounts.pages import page_refusal_for
from infra.accounts.policy import Action, works_visible
from infra.audit.models import AuditEntry
from infra.finance.selectors import (
    demo_money,
    money_by_commune,
    money_by_programme_line,
    money_by_source,
    money_summary,
    reconciliation_findings,
)
from infra.works import dashboard
from infra.works.choices import Stage
from infra.works.history import work_own_history, work_related_history


@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Works by stage and commune, money by source and programme line, late works, findings."""
    refused = page_refusal_for(request, Action.DASHBOARD)
    if refused:
        return refused
    works = works_visible(request.user)
    stages, stage_table = dashboard.stage_by_commune(works)
    summary = money_summary()
    by_source = money_by_source(summary)
    by_line = money_by_programme_line()
    context = {
        "stages": [Stage(s).label for s in stages],
        "stage_table": stage_table,
        "stage_totals": [sum(row["counts"][i] for row in stage_table) for i in range(len(stages))],
        "summary": summary,
        "by_source": by_source,
        "by_line": by_line,
        "line_bars": dashboard.bars([{"label": str(r["line"]), "value": r["allocated"]} for r in by_line], label="label", value="value"),
        "by_commune": money_by_commune(),
        "late": dashboard.late_works(works, today=timezone.localdate())[:200],
        "findings": reconciliation_findings(),
        "work_count": works.count(),
        # The money tables hold synthetic rows where the demo was loaded: say so, and how much (README).
        "demo_money": demo_money(),
    }
    context["has_demo"] = any(context["demo_money"].values()) or works.filter(is_demo=True).exists()
    return render(request, "works/dashboard.html", context)


@require_GET
def work_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to a work and to its stages, money and upkeep, with who, when and before → after."""
    work = get_object_or_404(works_visible(request.user), pk=pk)
    refused = page_refusal_for(request, Action.HISTORY_READ, work)
    if refused:
        return refused
    lines = sorted(work_own_history(work=work) + work_related_history(work=work), key=lambda line: line.when)
    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return render(request, "works/history.html", {"work": work, "lines": lines, "audit_head": head})
