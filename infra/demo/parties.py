"""Who builds and who owns the demo works: contractors, community groups, investors over time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from gis.models import AdminUnit
from infra.accounts.models import Organisation, OrganisationKind
from infra.demo import CHANGE_REASON
from infra.demo.area import DemoArea
from infra.demo.lifecycle import WorkSpec
from infra.demo.names import contractor_names
from infra.works.choices import Stage
from infra.works.models import Work, WorkInvestor

__all__ = ["DISTRICT_BOARD", "Parties", "contractors_plan", "investors_save", "parties_save"]

# Created by load_reference from Plan 245; the investor of Project 1 works until 30/06/2025.
DISTRICT_BOARD = "Ban quản lý dự án huyện Phong Thổ"
# Decree 125/2025/NĐ-CP: from 1 July 2025 the commune People's Committee takes over.
LAST_DISTRICT_DAY = date(2025, 6, 30)
FIRST_COMMUNE_DAY = date(2025, 7, 1)


@dataclass
class Parties:
    board: Organisation
    committees: dict[str, Organisation]
    former_committees: dict[str, Organisation]
    contractors: list[Organisation]
    community_groups: dict[str, Organisation]


def _organisation(*, name: str, kind: str, commune: AdminUnit | None = None, short_name: str = "") -> Organisation:
    # A body that already exists (say, entered by a person) is used as it is, never re-flagged.
    existing = Organisation.objects.filter(name=name).first()
    if existing is not None:
        return existing
    organisation = Organisation(name=name, short_name=short_name, kind=kind, commune=commune, is_demo=True)
    organisation._change_reason = CHANGE_REASON
    organisation.full_clean()
    organisation.save()
    return organisation


def _former_name(former: AdminUnit) -> str:
    # The date keeps it apart from today's committee of the same name (Sì Lở Lầu, Dào San…).
    return f"UBND {former.unit_type.lower()} {former.name} (đến 30/06/2025)"


def parties_save(*, rng: random.Random, area: DemoArea, specs: list[WorkSpec]) -> Parties:
    """Find the district board; create the committees, community groups and contractors the works need."""
    board = Organisation.objects.filter(name=DISTRICT_BOARD).first()
    if board is None:
        raise CommandError(_("Reference data is missing: run manage.py load_reference first."))
    committees = {
        code: _organisation(name=f"UBND {commune.in_text}", kind=OrganisationKind.COMMUNE_COMMITTEE, commune=commune.unit)
        for code, commune in area.communes.items()
    }
    groups = {
        code: _organisation(
            name=f"Tổ cộng đồng thi công {commune.in_text}", kind=OrganisationKind.COMMUNITY, commune=commune.unit
        )
        for code, commune in area.communes.items()
    }
    formers = sorted(
        {spec.draft.approved_commune.code: spec.draft.approved_commune for spec in specs if spec.special_mechanism}.items()
    )
    former_committees = {
        code: _organisation(name=_former_name(unit), kind=OrganisationKind.COMMUNE_COMMITTEE, commune=unit)
        for code, unit in formers
    }
    contractors = [_organisation(name=name, kind=OrganisationKind.CONTRACTOR) for name in contractor_names(rng=rng, count=5)]
    return Parties(
        board=board, committees=committees, former_committees=former_committees, contractors=contractors, community_groups=groups
    )


def contractors_plan(*, rng: random.Random, specs: list[WorkSpec], parties: Parties) -> dict[str, Organisation]:
    """Return who builds each contracted work: a firm, or the community under the special mechanism."""
    chosen = {}
    for spec in specs:
        if spec.reached(Stage.CONTRACTED) is None:
            continue
        if spec.special_mechanism:
            chosen[spec.code] = parties.community_groups[spec.draft.commune_code]
        else:
            chosen[spec.code] = rng.choice(parties.contractors)
    return chosen


def investors_save(*, specs: list[WorkSpec], works: dict[str, Work], parties: Parties) -> None:
    """Record the investor history: district board (or former commune) until 30/06/2025, today's commune after."""
    for spec in specs:
        approved = spec.reached(Stage.APPROVED)
        if approved is None:
            continue
        cancelled = spec.reached(Stage.CANCELLED)
        end = cancelled.on if cancelled else None
        first = parties.former_committees[spec.draft.approved_commune.code] if spec.special_mechanism else parties.board
        periods = []
        if approved.on <= LAST_DISTRICT_DAY:
            periods.append((first, approved.on, min(LAST_DISTRICT_DAY, end) if end else LAST_DISTRICT_DAY))
        if end is None or end >= FIRST_COMMUNE_DAY:
            periods.append((parties.committees[spec.draft.commune_code], max(FIRST_COMMUNE_DAY, approved.on), end))
        for organisation, valid_from, valid_to in periods:
            row = WorkInvestor(work=works[spec.code], organisation=organisation, valid_from=valid_from, valid_to=valid_to)
            row._change_reason = CHANGE_REASON
            row.full_clean()
            row.save()
