"""Pages and layers as a visitor or a board member sees them."""
from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.gis.geos import Point

from gis.models import AdminUnit
from infra.works.choices import Category, Stage
from infra.works.services import work_create, work_stage_change, work_update
from infra.accounts.models import Role
from tests.factories import PHONG_THO_POINT, UserFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def works(reference):
    proposed = work_create(user=None, code="P-1", name="Đề xuất nội bộ", category=Category.CULTURE,
                           geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2023, stage_date=date(2023, 1, 5),
                           internal_notes="ghi chú nội bộ")
    approved = work_create(user=None, code="A-1", name="Trạm y tế xã Phong Thổ", category=Category.HEALTH,
                           geometry=Point(103.361, 22.531, srid=4326), approved_year=2022, stage_date=date(2022, 8, 3),
                           total_investment=82_075_000_000 // 20)
    work_stage_change(work=approved, user=None, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    return {"proposed": proposed, "approved": approved}


def test_home_page_is_vietnamese_and_offline(client, works):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert "Bản đồ" in html
    # Every script and stylesheet is served from this site: no CDN.
    for marker in ('src="http', "href=\"http", "src=\"//", "href=\"//"):
        assert marker not in html.replace('href="http://testserver', "")


def test_commune_layer_lists_every_current_commune(client, reference):
    data = client.get("/layers/communes.geojson").json()
    expected = set(AdminUnit.objects.current().filter(level="commune", boundary__isnull=False).values_list("code", flat=True))
    assert {f["properties"]["code"] for f in data["features"]} == expected
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in data["features"])


def test_public_sees_approved_works_only(client, works):
    data = client.get("/layers/works.geojson").json()
    assert [f["properties"]["code"] for f in data["features"]] == ["A-1"]
    feature = data["features"][0]
    assert feature["properties"]["is_demo"] is False
    assert feature["geometry"]["coordinates"] == pytest.approx([103.361, 22.531], abs=1e-6)
    assert client.get(f"/works/{works['proposed'].pk}/").status_code == 404


def test_signed_in_account_without_a_role_sees_what_the_public_sees(client, works):
    client.force_login(UserFactory())
    codes = {f["properties"]["code"] for f in client.get("/layers/works.geojson").json()["features"]}
    assert codes == {"A-1"}


def test_board_member_sees_proposed_works_too(client, works):
    client.force_login(user_with_role(Role.BOARD))
    codes = {f["properties"]["code"] for f in client.get("/layers/works.geojson").json()["features"]}
    assert codes == {"A-1", "P-1"}


def test_work_detail_shows_money_in_vietnamese_format(client, works):
    response = client.get(f"/works/{works['approved'].pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "4.103,75 triệu đồng" in text
    assert "ghi chú nội bộ" not in text


def test_unknown_layer_is_404(client):
    assert client.get("/layers/secrets.geojson").status_code == 404


def test_admin_login_page_and_work_history_view(client, works):
    assert client.get("/admin/login/").status_code == 200
    board = UserFactory(username="board-admin", is_staff=True, is_superuser=True)
    work = works["approved"]
    work.refresh_from_db()
    work_update(work=work, user=board, expected_version=work.version, total_investment=5_000_000_000)
    client.force_login(board)
    assert client.get("/admin/").status_code == 200
    change = client.get(f"/admin/works/work/{work.pk}/change/")
    assert change.status_code == 200
    assert "leaflet" in change.content.decode().lower()
    history = client.get(f"/admin/works/work/{work.pk}/history/")
    assert history.status_code == 200
    page = history.content.decode()
    assert "5000000000" in page.replace(".", "").replace(",", "")
    assert "board-admin" in page


def test_admin_work_list_filters(client, works):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/admin/works/work/", {"category__exact": Category.HEALTH})
    assert response.status_code == 200
    assert "A-1" in response.content.decode()
    assert "P-1" not in response.content.decode()


def test_layers_are_valid_json(client, reference):
    for name in ("communes", "districts", "centres", "villages", "links", "roads", "works"):
        response = client.get(f"/layers/{name}.geojson")
        assert response.status_code == 200, name
        assert response["Content-Type"] == "application/geo+json"
        assert json.loads(response.content)["type"] == "FeatureCollection"


def test_work_history_in_admin_includes_stage_changes(client, works):
    work = works["approved"]
    board = UserFactory(username="root2", is_staff=True, is_superuser=True)
    client.force_login(board)
    page = client.get(f"/admin/works/work/{work.pk}/history/").content.decode()
    assert 'id="related-history"' in page
    event = work.stage_events.get(to_stage=Stage.APPROVED)
    assert str(event) in page


# ---- a work's page: money, maintenance, documents, as each person may see them ---------------

@pytest.fixture
def register(reference, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from infra.works.models import WorkDocument
    from tests.infra.api.register import build_register

    settings.MEDIA_ROOT = tmp_path
    built = build_register()
    work = built["A-1"]
    WorkDocument.objects.create(work=work, kind="document", title="Quyết định phê duyệt công khai", is_public=True,
                                file=SimpleUploadedFile("qd.pdf", b"%PDF-1.4 public"))
    WorkDocument.objects.create(work=work, kind="document", title="Biên bản nội bộ", is_public=False,
                                file=SimpleUploadedFile("bb.pdf", b"%PDF-1.4 internal"))
    return built


def _page(client, work) -> tuple[int, str]:
    response = client.get(f"/works/{work.pk}/", HTTP_ACCEPT_LANGUAGE="vi")
    return response.status_code, response.content.decode()


def test_work_page_shows_money_maintenance_and_public_documents(client, register):
    status, page = _page(client, register["A-1"])
    assert status == 200
    assert "2.000 triệu đồng" in page and "500 triệu đồng" in page and "1.500 triệu đồng" in page  # plan, paid, left
    assert "117/QĐ-UBND" in page and "PC-9" in page
    assert "01/09/2025" in page                     # next due: six months after 01/03/2025
    assert "Sơn lại tường" in page and "11,5 triệu đồng" in page
    assert "Quyết định phê duyệt công khai" in page
    # Not for the public: internal notes, unpublished documents, who inspected and what they noted.
    for secret in ("ghi chú nội bộ A", "Biên bản nội bộ", "Nguyễn Văn Kiểm", "nứt tường phía tây"):
        assert secret not in page
    assert 'id="work-map"' in page


def test_board_reads_internal_notes_and_unpublished_documents(client, register):
    client.force_login(user_with_role(Role.BOARD))
    status, page = _page(client, register["A-1"])
    assert status == 200
    for internal in ("ghi chú nội bộ A", "Biên bản nội bộ", "Nguyễn Văn Kiểm", "nứt tường phía tây"):
        assert internal in page


def test_commune_officer_sees_own_proposed_work_but_not_another_communes(client, register):
    phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    client.force_login(user_with_role(Role.COMMUNE_OFFICER, communes=[phong_tho]))
    status, page = _page(client, register["P-1"])
    assert status == 200 and "ghi chú nội bộ P" in page
    assert _page(client, register["P-2"])[0] == 404
    # A published work of their own commune: with its internal notes.
    assert "ghi chú nội bộ A" in _page(client, register["A-1"])[1]
    # A published work of another commune: visible, but its internal notes are not the officer's to read.
    status, page = _page(client, register["S-1"])
    assert status == 200 and "ghi chú nội bộ S" not in page


def test_public_gets_404_for_proposed_work(client, register):
    assert _page(client, register["P-1"])[0] == 404
    assert _page(client, register["P-2"])[0] == 404


def test_hostile_text_on_the_work_page_is_escaped(client, register):
    status, page = _page(client, register["Q-1"])
    assert status == 200
    assert "Nhà văn hóa&#x27;; DROP TABLE works_work; --" in page


def test_work_page_with_a_one_off_repair(client, register):
    from infra.maintenance.models import ResponsibleKind, Schedule, TaskKind

    fields = {f.name for f in Schedule._meta.get_fields()}
    if "closed_on" not in fields:
        pytest.skip("one-off tasks are not in this version of the maintenance models")
    Schedule.objects.create(work=register["A-1"], task_kind=TaskKind.REPAIR, description="Thay cửa sổ", interval_months=None,
                            starts_on=date(2025, 6, 1), responsible=ResponsibleKind.CONTRACTOR, closed_on=date(2025, 6, 20))
    status, page = _page(client, register["A-1"])
    assert status == 200 and "Thay cửa sổ" in page and "20/06/2025" in page


def test_pages_are_vietnamese_even_for_an_english_browser_until_english_is_chosen(client, reference):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="vi">' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
