"""Generate the whole demo in memory from the seed, then write it in one transaction."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from gis.models import BaseRoad, Village
from infra.demo import MARKER_SOURCE, SEED
from infra.demo.area import demo_area
from infra.demo.drafts import work_drafts
from infra.demo.geography import road_specs, roads_save, village_specs, villages_save
from infra.demo.lifecycle import number_documents, work_specs
from infra.demo.maintenance import maintenance_plans, maintenance_save
from infra.demo.money import allocation_document_requests, allocations_save, money_plans, number_vouchers
from infra.demo.parties import contractors_plan, investors_save, parties_save
from infra.demo.users import UsersOutcome, demo_users_ensure
from infra.demo.works import stage_document_requests, works_save
from infra.finance.models import Allocation, CapitalKind, CapitalPlan, Disbursement, ProgrammeNode, Source
from infra.maintenance.models import Inspection, Record, Schedule
from infra.works.models import Work

__all__ = ["DemoOutcome", "demo_counts", "demo_load", "demo_state", "topic_rng"]

PLAN_DECISION = "747/QĐ-UBND"
PROGRAMME_LINE = "NTP-GNBV-2021/DA1/TDA1"


@dataclass
class DemoOutcome:
    generated: bool
    counts: dict[str, int]
    users: UsersOutcome


def topic_rng(topic: str) -> random.Random:
    """Return the random stream for one topic, seeded from SEED.

    One stream per topic, so changing how works are drawn does not move a single village.
    """
    return random.Random(f"{SEED}/{topic}")


def demo_state() -> str:
    """Return "absent", "present" (this generator version) or "other" (demo rows this version did not write)."""
    if BaseRoad.objects.filter(is_demo=True, source=MARKER_SOURCE).exists():
        return "present"
    others = (
        Work.objects.filter(code__startswith="DEMO-").exists()
        or Village.objects.filter(is_demo=True).exists()
        or BaseRoad.objects.filter(is_demo=True).exists()
    )
    return "other" if others else "absent"


def demo_counts() -> dict[str, int]:
    """Return how many demo rows of each kind the database holds."""
    return {
        "villages": Village.objects.filter(is_demo=True).count(),
        "roads": BaseRoad.objects.filter(is_demo=True).count(),
        "works": Work.objects.filter(is_demo=True).count(),
        "allocations": Allocation.objects.filter(is_demo=True).count(),
        "disbursements": Disbursement.objects.filter(is_demo=True).count(),
        "schedules": Schedule.objects.filter(is_demo=True).count(),
        "records": Record.objects.filter(is_demo=True).count(),
        "inspections": Inspection.objects.filter(is_demo=True).count(),
    }


def _capital() -> tuple[CapitalPlan, ProgrammeNode]:
    plan = CapitalPlan.objects.filter(
        decision__number=PLAN_DECISION, year=2022, kind=CapitalKind.INVESTMENT, source=Source.CENTRAL
    ).first()
    line = ProgrammeNode.objects.filter(code=PROGRAMME_LINE).first()
    if plan is None or line is None:
        raise CommandError(_("Reference data is missing: run manage.py load_reference first."))
    return plan, line


def _generate() -> None:
    area = demo_area()
    capital_plan, line = _capital()
    # Everything is decided in memory first; the database only receives the result.
    villages = village_specs(rng=topic_rng("villages"), area=area)
    roads, gaps = road_specs(rng=topic_rng("roads"), area=area, villages=villages)
    drafts = work_drafts(rng=topic_rng("works"), area=area, villages=villages, roads=roads, gaps=gaps)
    specs = work_specs(rng=topic_rng("lifecycle"), drafts=drafts, villages=villages, investment_total=capital_plan.amount)
    money = money_plans(rng=topic_rng("money"), specs=specs, ceiling=capital_plan.amount)
    number_vouchers(plans=money)
    # One register for stage decisions and allocation decisions alike, so no number is used twice.
    documents = number_documents(
        rng=topic_rng("documents"),
        requests=stage_document_requests(specs=specs) + allocation_document_requests(plans=money),
    )
    upkeep = maintenance_plans(rng=topic_rng("maintenance"), specs=specs)

    saved_villages = villages_save(specs=villages, area=area)
    roads_save(specs=roads)
    parties = parties_save(rng=topic_rng("parties"), area=area, specs=specs)
    contractors = contractors_plan(rng=topic_rng("contractors"), specs=specs, parties=parties)
    works = works_save(specs=specs, villages=saved_villages, documents=documents, contractors=contractors)
    investors_save(specs=specs, works=works, parties=parties)
    allocations_save(plans=money, works=works, capital_plan=capital_plan, line=line, documents=documents)
    maintenance_save(rng=topic_rng("inspections"), plans=upkeep, specs=specs, works=works, area=area)


def demo_load(*, logins_file: Path) -> DemoOutcome:
    """Load the demo unless this version is already there; create missing demo users where allowed."""
    with transaction.atomic():
        state = demo_state()
        if state == "other":
            raise CommandError(
                _(
                    "The database holds demo rows from another version of the demo generator. "
                    "Start from a fresh database (for example delete var/infra.sqlite3 and run make run again)."
                )
            )
        if state == "absent":
            _generate()
        # Inside the transaction: if writing the logins file fails, no user is left without a known password.
        users = demo_users_ensure(logins_file=logins_file)
    return DemoOutcome(generated=state == "absent", counts=demo_counts(), users=users)
