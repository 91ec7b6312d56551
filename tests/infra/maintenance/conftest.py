"""People and works for the maintenance tests: two communes, each role, works at several stages."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.gis.geos import LineString, Point

from gis.models import AdminUnit
from infra.accounts.models import Role
from infra.maintenance.models import Condition, ResponsibleKind, Schedule, TaskKind
from infra.maintenance.services import inspection_create, schedule_create
from infra.works.choices import STAGE_ORDER, Category, Stage
from infra.works.models import Work
from infra.works.services import work_create, work_stage_change
from tests.factories import user_with_role

PHONG_THO, DAO_SAN = "03549", "03571"


def current_commune(code: str) -> AdminUnit:
    return AdminUnit.objects.current().get(level="commune", code=code)


@pytest.fixture
def people(reference):
    phong_tho = current_commune(PHONG_THO)
    return {
        "board": user_with_role(Role.BOARD, username="ban-qlda"),
        "planner": user_with_role(Role.PLANNER, username="ke-hoach"),
        "officer": user_with_role(Role.COMMUNE_OFFICER, username="can-bo-phong-tho", communes=[phong_tho]),
        "other_officer": user_with_role(Role.COMMUNE_OFFICER, username="can-bo-dao-san", communes=[current_commune(DAO_SAN)]),
        "auditor": user_with_role(Role.AUDITOR, username="kiem-toan"),
    }


@pytest.fixture
def make_work(people):
    """Make a work in a commune and walk it through the lifecycle up to `stage` (dated in 2023–2024)."""
    counter = iter(range(1, 1000))

    def make(*, commune: str = PHONG_THO, category: str = Category.ROAD, stage: str = Stage.HANDED_OVER, code: str | None = None,
             households: int = 100, poor: int = 40, investment: int = 2_000_000_000, name: str | None = None) -> Work:
        n = next(counter)
        centre = current_commune(commune).centre
        if category == Category.ROAD:
            geometry = LineString((centre.x - 0.002, centre.y), (centre.x + 0.002, centre.y + 0.001), srid=4326)
        else:
            geometry = Point(centre.x, centre.y, srid=4326)
        board = people["board"]
        work = work_create(user=board, code=code or f"MT-{n:03d}", name=name or f"Công trình bảo trì {n}", category=category,
                           geometry=geometry, approved_year=2023, stage_date=date(2023, 1, 2), total_investment=investment,
                           beneficiary_households=households, beneficiary_poor_households=poor)
        for position, step in enumerate(STAGE_ORDER[1:], start=1):
            if STAGE_ORDER.index(stage) < position:
                break
            work_stage_change(work=work, user=board, to_stage=step, occurred_on=date(2023, 1 + position, 1))
        # Each test starts from a work without tasks, whether or not the handover applied its templates.
        Schedule.objects.filter(work=work).delete()
        return Work.objects.get(pk=work.pk)

    return make


@pytest.fixture
def road(make_work):
    """A handed-over road in xã Phong Thổ: 120 households, 50 poor, 2 billion VND."""
    return make_work(code="ROAD-PT", households=120, poor=50)


@pytest.fixture
def other_road(make_work):
    """A handed-over road in xã Dào San, outside the Phong Thổ officer's communes."""
    return make_work(code="ROAD-DS", commune=DAO_SAN, households=60, poor=10)


@pytest.fixture
def register(road, other_road, people):
    """An overdue routine task on each road, and a poor inspection of the Phong Thổ road (proposing a repair)."""
    for work, cost in ((road, 30_000_000), (other_road, 20_000_000)):
        schedule_create(user=people["planner"], work=work, task_kind=TaskKind.ROUTINE, interval_months=3,
                        starts_on=date(2025, 1, 31), responsible=ResponsibleKind.COMMUNE_COMMITTEE, estimated_cost=cost,
                        description="Phát quang")
    inspection_create(user=people["planner"], work=road, inspected_on=date(2026, 3, 2), inspector="Cán bộ xã",
                      condition=Condition.POOR, repair_cost=150_000_000)
    return {"road": road, "other_road": other_road}
