"""The board's dashboard and a work's history page, as each role sees them."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from infra.accounts.models import Role
from infra.finance.models import CapitalKind, CapitalPlan, ProgrammeNode
from infra.finance.services import allocation_create, disbursement_create
from infra.works.choices import Category, Stage
from infra.works.services import work_create, work_stage_change, work_update
from tests.factories import PHONG_THO_POINT, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(reference):
    return user_with_role(Role.BOARD, username="truong-ban")


@pytest.fixture
def late_work(board):
    work = work_create(user=board, code="LATE-1", name="Cầu treo bản Pho", category=Category.BRIDGE,
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022, stage_date=date(2022, 8, 1),
                       planned_start=date(2022, 10, 1), planned_end=date(2023, 6, 30), total_investment=3_000_000_000)
    work_stage_change(work=work, user=board, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    work.refresh_from_db()
    work_update(work=work, user=board, expected_version=work.version, name="Cầu treo bản Pho (điều chỉnh)")
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    allocation = allocation_create(capital_plan=plan, programme_line=ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1"),
                                   work=work, amount=2_000_000_000, allocated_on=date(2022, 10, 1), user=board)
    disbursement_create(allocation=allocation, amount=500_000_000, paid_on=date(2023, 1, 10), voucher_number="PC-9", user=board)
    return work


def test_dashboard_shows_stages_money_late_works_and_the_plan_gap(client, board, late_work):
    client.force_login(board)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "LATE-1" in page                      # approved, planned to start in 2022: late
    assert "2.000 triệu đồng" in page             # allocated, Vietnamese format
    assert "500 triệu đồng" in page               # disbursed
    assert "180.000.000" in page                  # the plan's own inconsistency, reported
    # What is left of the plan is said as what it is: the work's page's "allocated, not yet disbursed" differs.
    assert "Kế hoạch chưa giải ngân" in page and "Còn lại" not in page
    assert "<svg" in page and "http" not in page.split("<main>")[1].split("</main>")[0].replace("http://testserver", "")


@pytest.mark.parametrize(("role", "status"), [(Role.AUDITOR, 200), (Role.PLANNER, 200), (Role.COMMUNE_OFFICER, 403)])
def test_dashboard_access_by_role(client, reference, role, status):
    client.force_login(user_with_role(role))
    assert client.get("/dashboard/").status_code == status


def test_dashboard_asks_the_public_to_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_history_page_lists_who_changed_what_in_vietnamese(client, board, late_work):
    client.force_login(user_with_role(Role.AUDITOR, username="kiem-toan"))
    response = client.get(f"/works/{late_work.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lịch sử" in page
    assert "Cầu treo bản Pho → Cầu treo bản Pho (điều chỉnh)" in page
    assert "truong-ban" in page
    assert "giải ngân" in page.lower()   # the payment's history is there too


def test_history_shows_values_as_people_read_them(client, board, late_work):
    # The page showed raw values: "giai đoạn: proposed → approved", "nhà thầu: None → 34", ISO dates.
    from infra.accounts.models import Organisation, OrganisationKind

    contractor = Organisation.objects.create(name="Công ty Xây dựng Sìn Hồ", kind=OrganisationKind.CONTRACTOR)
    late_work.refresh_from_db()
    work_update(work=late_work, user=board, expected_version=late_work.version, contractor=contractor,
                planned_end=date(2023, 12, 31), total_investment=3_250_000_000)
    client.force_login(user_with_role(Role.AUDITOR, username="kiem-toan"))
    page = client.get(f"/works/{late_work.pk}/history/").content.decode()
    assert f"— → Công ty Xây dựng Sìn Hồ (#{contractor.pk})" in page
    assert "30/06/2023 → 31/12/2023" in page
    assert "3.000.000.000 → 3.250.000.000" in page
    with translation.override("vi"):
        assert f"{Stage.PROPOSED.label} → {Stage.APPROVED.label}" in page
    assert "proposed →" not in page and "None" not in page.split("<main>")[1]


def _more_history(work, board, rounds: int) -> None:
    """`rounds` more edits of the work, stage changes, allocations and payments."""
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    for i in range(rounds):
        work.refresh_from_db()
        work_update(work=work, user=board, expected_version=work.version, name=f"Cầu treo bản Pho, lần {i + 2}")
        work.refresh_from_db()
        back = work.stage == Stage.SUSPENDED  # suspended and resumed in turn
        work_stage_change(work=work, user=board, to_stage=Stage.APPROVED if back else Stage.SUSPENDED,
                          occurred_on=date(2023, 2, 1) + timedelta(days=work.stage_events.count()), note="Chờ vốn")
        allocation = allocation_create(capital_plan=plan, programme_line=line, work=work, amount=1_000_000,
                                       allocated_on=date(2022, 11, 1 + i), user=board)
        disbursement_create(allocation=allocation, amount=1_000, paid_on=date(2023, 3, 1 + i), voucher_number=f"PC-{i + 10}",
                            user=board)


def test_history_page_reads_the_same_number_of_rows_whatever_its_length(client, board, late_work):
    """Each history row's previous version and the objects its text names are read in bulk, not row by row."""
    client.force_login(user_with_role(Role.AUDITOR, username="kiem-toan"))
    counts, pages = [], []
    for rounds in (1, 4):
        _more_history(late_work, board, rounds)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/works/{late_work.pk}/history/")
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
        pages.append(response.content.decode())
    assert counts[0] == counts[1], counts
    # The names its rows give are read without the communes' boundaries.
    assert not any('"boundary"' in q["sql"] for q in captured.captured_queries)
    # The longer page still says what changed, row by row: every edit of the name, before → after.
    for i in range(1, 5):
        before = "Cầu treo bản Pho (điều chỉnh)" if i == 1 else f"Cầu treo bản Pho, lần {i}"
        assert f"{before} → Cầu treo bản Pho, lần {i + 1}" in pages[1]
    assert pages[1].count("PC-1") >= 5  # PC-9 and PC-10…PC-14 payments each named


@pytest.mark.parametrize("role", [Role.COMMUNE_OFFICER, Role.PLANNER])
def test_history_page_is_for_board_and_auditors(client, late_work, role):
    client.force_login(user_with_role(role))
    assert client.get(f"/works/{late_work.pk}/history/").status_code == 403


def test_dashboard_shares_read_100_only_when_all_is_paid_and_figures_follow_the_language(client, board, late_work):
    # The bar's label rounded (widthratio): 1.995 of 2.000 million paid read "100 %", where the work's page
    # read 99,7. English pages wrote "2.000 million VND", which an English reader takes for two million.
    from infra.finance.models import Allocation

    allocation = Allocation.objects.get(work=late_work)
    disbursement_create(allocation=allocation, amount=1_495_000_000, paid_on=date(2023, 2, 10), voucher_number="PC-10",
                        user=board)
    client.force_login(board)
    page = client.get("/dashboard/").content.decode()
    assert '<span class="bar-label">99,7 %</span>' in page and '<rect width="99"' in page
    assert '<span class="bar-label">100 %</span>' not in page
    client.cookies["django_language"] = "en"
    english = client.get("/dashboard/").content.decode()
    assert "2,000 million VND" in english and '<span class="bar-label">99.7 %</span>' in english
    assert "2.000 million VND" not in english


def test_the_dashboard_says_how_much_of_its_money_is_demo(client, board, late_work):
    # load_demo books its synthetic money against the real 2022 capital plan; the dashboard's totals held it
    # without a word, where the README promises "demo" wherever demo rows are shown.
    from infra.finance.models import Allocation

    client.force_login(board)
    page = client.get("/dashboard/").content.decode()
    assert "dữ liệu mẫu" not in page and "demo-banner" not in page
    real = Allocation.objects.get(work=late_work)
    allocation_create(capital_plan=real.capital_plan, programme_line=real.programme_line, work=late_work,
                      amount=300_000_000, allocated_on=date(2022, 11, 1), user=board, is_demo=True)
    page = client.get("/dashboard/").content.decode()
    assert "Các bảng tiền trên trang này gồm cả các dòng dữ liệu mẫu: 300 triệu đồng phân bổ và 0 triệu đồng giải ngân" \
        in page
    assert "demo-banner" in page


def test_money_by_commune_adds_up_to_the_totals(client, board, late_work):
    # Money tied to no work was left out of the commune table, so its rows did not add up to the year table's.
    from infra.finance.models import Allocation
    from infra.finance.selectors import money_by_commune, money_summary

    real = Allocation.objects.get(work=late_work)
    allocation_create(capital_plan=real.capital_plan, programme_line=real.programme_line, work=None,
                      amount=700_000_000, allocated_on=date(2022, 11, 1), user=board)
    rows = money_by_commune()
    assert sum(r["allocated"] for r in rows) == sum(r["allocated"] for r in money_summary())
    assert sum(r["disbursed"] for r in rows) == sum(r["disbursed"] for r in money_summary())
    client.force_login(board)
    page = client.get("/dashboard/").content.decode()
    assert "không gắn với công trình nào" in page and "700 triệu đồng" in page
