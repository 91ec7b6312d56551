"""Works of every geometry type, with money, Vietnamese text and hostile text, for the interchange tests."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from gis.selectors import commune_resolve
from infra.accounts.models import Organisation, OrganisationKind, Role
from infra.finance.models import CapitalKind, CapitalPlan, ProgrammeNode
from infra.finance.services import allocation_create, allocation_reverse, disbursement_create
from infra.works.choices import Category, Stage
from infra.works.services import work_create
from tests.factories import user_with_role

FORMULA_NAME = '=HYPERLINK("http://example.invalid","bấm")'


@pytest.fixture
def board(db):
    return user_with_role(Role.BOARD, username="board-x")


@pytest.fixture
def auditor(db):
    return user_with_role(Role.AUDITOR, username="auditor-x")


@pytest.fixture
def planner(db):
    return user_with_role(Role.PLANNER, username="planner-x")


@pytest.fixture
def officer(reference):
    return user_with_role(Role.COMMUNE_OFFICER, username="officer-x", communes=[commune_resolve(code="03549")])


@pytest.fixture
def contractor(db):
    return Organisation.objects.create(name="Công ty TNHH Xây dựng Phong Thổ", kind=OrganisationKind.CONTRACTOR)


def _geometry(wkt: str) -> GEOSGeometry:
    return GEOSGeometry(wkt, srid=4326)


@pytest.fixture
def works_only(reference, board, contractor):
    """Five works: point, line, polygon, multipoint, and one approved under a pre-2025 commune."""
    former = commune_resolve(code="03562", on=date(2025, 6, 30))  # xã Vàng Ma Chải, before the reform
    made = [
        work_create(user=board, code="PT-001", name="Trạm y tế xã Phong Thổ", category=Category.HEALTH,
                    geometry=_geometry("POINT (103.3612345678 22.5312345678)"), approved_year=2022, stage=Stage.APPROVED,
                    stage_date=date(2022, 9, 1), approved_commune=former, total_investment=3_500_000_000,
                    beneficiary_households=420, beneficiary_poor_households=180, beneficiary_women=900,
                    planned_start=date(2023, 1, 15), planned_end=date(2023, 12, 31), contractor=contractor,
                    description="Xây mới trạm y tế đạt chuẩn quốc gia", internal_notes="Chỉ nội bộ"),
        work_create(user=board, code="PT-002", name=FORMULA_NAME, category=Category.ROAD,
                    geometry=_geometry("LINESTRING (103.355 22.525, 103.3601 22.5299, 103.365 22.535)"),
                    approved_year=2023, road_class="village", road_surface="concrete", all_season=True,
                    description="+SUM(1,2)", total_investment=0),
        work_create(user=board, code="PT-003", name="Trường mầm non bản Pa Vây Sử", category=Category.SCHOOL,
                    geometry=_geometry("POLYGON ((103.358 22.528, 103.362 22.528, 103.362 22.532, 103.358 22.532, "
                                       "103.358 22.528))"),
                    approved_year=2022, school_level="preschool", special_mechanism=True, total_investment=4_900_000_000),
        work_create(user=board, code="PT-004", name="Giếng khoan bản Lả", category=Category.WATER,
                    geometry=_geometry("MULTIPOINT ((103.35 22.52), (103.36 22.54), (103.3655 22.5211))"), approved_year=2024,
                    water_source="drilled_well", is_demo=True),
        work_create(user=board, code="PT-005", name="@Nhà văn hóa -bản Mới", category=Category.CULTURE,
                    geometry=_geometry("POINT (103.37 22.55)"), approved_year=2025, stage=Stage.APPROVED,
                    stage_date=date(2025, 3, 1)),
    ]
    return made


@pytest.fixture
def works(works_only, board):
    """The five works, with an allocation, a reversal (a negative amount) and a payment to the first."""
    made = works_only
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    allocation = allocation_create(capital_plan=plan, programme_line=line, amount=2_000_000_000,
                                   allocated_on=date(2022, 10, 1), user=board, work=made[0], decision_number="12/QĐ-UBND")
    allocation_reverse(allocation=allocation, amount=300_000_000, on=date(2022, 11, 1), reason="Điều chỉnh", user=board)
    disbursement_create(allocation=allocation, amount=500_000_000, paid_on=date(2022, 12, 1), voucher_number="=CMD|' /C calc'!A0",
                        user=board)
    return made


def tables_checksum() -> str:
    """Return a SHA-256 over the works, money and history tables, to prove an action wrote nothing."""
    from infra.audit.models import AuditEntry
    from infra.finance.models import Allocation, Disbursement
    from infra.works.models import StageEvent, Work

    digest = hashlib.sha256()
    for model in (Work, StageEvent, Allocation, Disbursement, Work.history.model, AuditEntry):
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), max({connection.ops.quote_name(model._meta.pk.column)}) FROM {table}")
            digest.update(repr(cursor.fetchone()).encode())
        for row in model.objects.order_by("pk").values_list():
            # A geometry's repr holds its memory address: hash its WKB instead.
            digest.update(repr([bytes(v.wkb) if isinstance(v, GEOSGeometry) else v for v in row]).encode())
    return digest.hexdigest()
