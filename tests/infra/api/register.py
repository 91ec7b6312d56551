"""A small register of works for the map, API and page tests, built through the services.

Where the works lie (current communes of the reference data) and under which commune they
were approved:

  code  category  stage               year  lies in (today)     approved under
  A-1   health    approved            2022  03549 Phong Thổ      03490 Huổi Luông (former)   central money, maintenance
  R-1   road      under_construction  2023  03549 Phong Thổ      03549 Phong Thổ (current)   a line, gravel
  S-1   school    designed            2023  03562 Sì Lở Lầu      03562 Vàng Ma Chải (former) local money, internal notes
  B-1   bridge    approved            2024  03562 Sì Lở Lầu      03553 Mồ Sì San (former)
  Q-1   culture   approved            2024  03549 Phong Thổ      —                           a name with SQL in it
  P-1   water     proposed            2024  03549 Phong Thổ      03490 Huổi Luông (former)   internal notes
  P-2   other     proposed            2024  03562 Sì Lở Lầu      —
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.gis.geos import LineString, Point

from gis.models import AdminUnit
from infra.finance.models import CapitalDecision, CapitalKind, CapitalPlan, ProgrammeNode, Source
from infra.finance.services import allocation_create, disbursement_create
from infra.maintenance.models import Inspection, Record, ResponsibleKind, Schedule, TaskKind
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.services import work_create, work_stage_change

PHONG_THO = (103.36, 22.53)
SI_LO_LAU = (103.335, 22.732)
FORMER_DAY = date(2025, 6, 30)
SQL_NAME = "Nhà văn hóa'; DROP TABLE works_work; --"


@dataclass
class Register:
    works: dict[str, Work]

    def __getitem__(self, code: str) -> Work:
        return self.works[code]


def _unit(code: str, *, former: bool = False) -> AdminUnit:
    return AdminUnit.objects.get(level="commune", code=code, valid_to=FORMER_DAY if former else None)


def _advance(work: Work, stages: list[str], start: date) -> Work:
    for i, stage in enumerate(stages):
        work_stage_change(work=work, user=None, to_stage=stage, occurred_on=date(start.year, start.month, 1 + i))
    work.refresh_from_db()
    return work


def build_register() -> Register:
    """Create the works above (reference data must be loaded)."""
    huoi_luong, vang_ma_chai, mo_si_san = _unit("03490", former=True), _unit("03562", former=True), _unit("03553", former=True)
    phong_tho = _unit("03549")
    works = {}
    works["A-1"] = _advance(work_create(
        user=None, code="A-1", name="Trạm y tế xã Phong Thổ", category=Category.HEALTH, geometry=Point(*PHONG_THO, srid=4326),
        approved_year=2022, stage_date=date(2022, 8, 3), approved_commune=huoi_luong, total_investment=4_103_750_000,
        internal_notes="ghi chú nội bộ A"), [Stage.APPROVED], date(2022, 9, 1))
    works["R-1"] = _advance(work_create(
        user=None, code="R-1", name="Đường bản Nà Giàng", category=Category.ROAD,
        geometry=LineString((103.355, 22.525), (103.365, 22.535), srid=4326), approved_year=2023,
        stage_date=date(2023, 2, 1), approved_commune=phong_tho, road_surface="gravel", total_investment=2_000_000_000),
        [Stage.APPROVED, Stage.DESIGNED, Stage.CONTRACTED, Stage.UNDER_CONSTRUCTION], date(2023, 3, 1))
    works["S-1"] = _advance(work_create(
        user=None, code="S-1", name="Điểm trường mầm non bản Pắc Ma", category=Category.SCHOOL,
        geometry=Point(*SI_LO_LAU, srid=4326), approved_year=2023, stage_date=date(2023, 1, 5),
        approved_commune=vang_ma_chai, internal_notes="ghi chú nội bộ S"), [Stage.APPROVED, Stage.DESIGNED], date(2023, 4, 1))
    works["B-1"] = _advance(work_create(
        user=None, code="B-1", name="Cầu treo bản Tả Chải", category=Category.BRIDGE,
        geometry=Point(SI_LO_LAU[0] + 0.004, SI_LO_LAU[1] + 0.002, srid=4326), approved_year=2024,
        stage_date=date(2024, 1, 5), approved_commune=mo_si_san), [Stage.APPROVED], date(2024, 2, 1))
    works["Q-1"] = _advance(work_create(
        user=None, code="Q-1", name=SQL_NAME, category=Category.CULTURE,
        geometry=Point(PHONG_THO[0] + 0.003, PHONG_THO[1] - 0.002, srid=4326), approved_year=2024,
        stage_date=date(2024, 1, 5)), [Stage.APPROVED], date(2024, 2, 1))
    works["P-1"] = work_create(
        user=None, code="P-1", name="Giếng khoan bản Nà Giàng", category=Category.WATER,
        geometry=Point(PHONG_THO[0] + 0.002, PHONG_THO[1] + 0.002, srid=4326), approved_year=2024,
        stage_date=date(2024, 3, 1), approved_commune=huoi_luong, internal_notes="ghi chú nội bộ P")
    works["P-2"] = work_create(
        user=None, code="P-2", name="Lò đốt rác bản Tả Chải", category=Category.OTHER,
        geometry=Point(SI_LO_LAU[0] + 0.001, SI_LO_LAU[1] + 0.001, srid=4326), approved_year=2024,
        stage_date=date(2024, 3, 1))
    _money(works)
    _maintenance(works["A-1"])
    return Register(works=works)


def _money(works: dict[str, Work]) -> None:
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    central = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT, source=Source.CENTRAL)
    allocation = allocation_create(capital_plan=central, programme_line=line, work=works["A-1"], amount=2_000_000_000,
                                   allocated_on=date(2022, 10, 1), user=None, decision_number="117/QĐ-UBND")
    disbursement_create(allocation=allocation, amount=500_000_000, paid_on=date(2023, 1, 10), voucher_number="PC-9", user=None)
    local = CapitalPlan.objects.create(decision=CapitalDecision.objects.first(), year=2023, source=Source.LOCAL,
                                       kind=CapitalKind.INVESTMENT, amount=1_000_000_000, programme_line=line)
    allocation_create(capital_plan=local, programme_line=line, work=works["S-1"], amount=300_000_000,
                      allocated_on=date(2023, 5, 1), user=None)


def _maintenance(work: Work) -> None:
    schedule = Schedule.objects.create(work=work, task_kind=TaskKind.ROUTINE, description="Quét dọn, sơn lại",
                                       interval_months=6, last_done=date(2025, 3, 1), starts_on=date(2024, 1, 1),
                                       responsible=ResponsibleKind.COMMUNE_COMMITTEE, estimated_cost=12_000_000)
    Record.objects.create(work=work, schedule=schedule, done_on=date(2025, 3, 1), cost=11_500_000, description="Sơn lại tường")
    Inspection.objects.create(work=work, inspected_on=date(2025, 2, 10), inspector="Nguyễn Văn Kiểm", condition="fair",
                              notes="nứt tường phía tây")
