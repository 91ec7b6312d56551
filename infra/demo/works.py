"""Write the demo works through the works services, stage by stage, as a board would have."""

from __future__ import annotations

from datetime import date

from gis.models import Village
from infra.accounts.models import Organisation
from infra.demo.lifecycle import WorkSpec
from infra.works.choices import Stage
from infra.works.models import Work
from infra.works.services import work_create, work_stage_change, work_update

__all__ = ["DESCRIPTION", "stage_document_requests", "works_save"]

# Shown wherever the work is: these works do not exist (DOMAIN.md §5).
DESCRIPTION = "Công trình mẫu (dữ liệu tổng hợp, không có thật) để trình diễn hệ thống."


def stage_document_requests(*, specs: list[WorkSpec]) -> list[tuple[date, str, str]]:
    """Return the decisions and records behind the stage moves to number, keyed "<work code>/<step index>"."""
    return [
        (step.on, f"{spec.code}/{index}", step.document)
        for spec in specs
        for index, step in enumerate(spec.steps)
        if step.document
    ]


def _create(*, spec: WorkSpec, villages: dict[str, Village]) -> Work:
    draft = spec.draft
    return work_create(
        user=None,
        code=spec.code,
        name=draft.name,
        category=draft.category,
        geometry=draft.geometry,
        approved_year=spec.approved_year,
        stage_date=spec.steps[0].on,
        villages_served=[villages[code] for code in draft.villages],
        description=DESCRIPTION,
        approved_commune=draft.approved_commune,
        beneficiary_households=spec.households,
        beneficiary_poor_households=spec.poor_households,
        beneficiary_women=spec.women,
        special_mechanism=spec.special_mechanism,
        total_investment=spec.total_investment,
        planned_start=spec.planned_start,
        planned_end=spec.planned_end,
        is_demo=True,
        **draft.fields,
    )


def works_save(
    *, specs: list[WorkSpec], villages: dict[str, Village], documents: dict[str, str], contractors: dict[str, Organisation]
) -> dict[str, Work]:
    """Create each work and move it along its history with the services; return the works by code."""
    works = {}
    for spec in specs:
        work = _create(spec=spec, villages=villages)
        for index, step in enumerate(spec.steps[1:], start=1):
            work_stage_change(
                work=work,
                user=None,
                to_stage=step.stage,
                occurred_on=step.on,
                note=step.note,
                decision_number=documents.get(f"{spec.code}/{index}", ""),
            )
            if step.stage == Stage.CONTRACTED and spec.code in contractors:
                work = work_update(work=work, user=None, expected_version=work.version, contractor=contractors[spec.code])
            if step.progress is not None:
                work = work_update(work=work, user=None, expected_version=work.version, progress=step.progress)
        works[spec.code] = work
    return works
