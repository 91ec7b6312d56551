"""Writes through the API: optimistic locking with ETag/If-Match, the policy, and no mass assignment."""
from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.gis.geos import LineString
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gis.models import AdminUnit
from infra.accounts.models import Role
from infra.finance.models import Allocation, CapitalKind, CapitalPlan, Disbursement, ProgrammeNode
from infra.finance.services import allocation_create
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.services import work_create, work_stage_change
from tests.factories import PHONG_THO_POINT, user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def board(reference):
    return user_with_role(Role.BOARD, username="ban")


@pytest.fixture
def work(board):
    work = work_create(user=board, code="API-1", name="Đường nội đồng", category=Category.ROAD, geometry=_line(),
                       approved_year=2022, stage_date=date(2022, 8, 1))
    for step, day in [(Stage.APPROVED, 2), (Stage.DESIGNED, 3), (Stage.CONTRACTED, 4), (Stage.UNDER_CONSTRUCTION, 5)]:
        work_stage_change(work=work, user=board, to_stage=step, occurred_on=date(2022, 9, day))
    return Work.objects.get(pk=work.pk)


def _line():
    x, y = PHONG_THO_POINT
    return LineString((x, y), (x + 0.004, y + 0.002), srid=4326)


def _patch(api, work_id, body, etag=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    return api.patch(f"/api/works/{work_id}/", data=json.dumps(body), content_type="application/json", **headers)


def test_get_gives_the_version_as_etag(api, work):
    response = api.get(f"/api/works/{work.pk}/")
    assert response["ETag"] == f'"{work.version}"'


def test_patch_with_the_right_version_saves_and_bumps_it(api, board, work):
    api.force_authenticate(board)
    response = _patch(api, work.pk, {"progress": 40, "name": "Đường nội đồng bản Mới"}, f'"{work.version}"')
    assert response.status_code == 200, response.content
    work.refresh_from_db()
    assert (work.progress, work.name, response["ETag"]) == (40, "Đường nội đồng bản Mới", f'"{work.version}"')


def test_patch_without_a_version_is_428_and_changes_nothing(api, board, work):
    api.force_authenticate(board)
    assert _patch(api, work.pk, {"progress": 40}).status_code == 428
    work.refresh_from_db()
    assert work.progress == 0


def test_stale_patch_is_412_says_what_changed_and_the_other_edit_survives(api, board, work):
    api.force_authenticate(board)
    read = f'"{work.version}"'
    assert _patch(api, work.pk, {"name": "Tên của An"}, read).status_code == 200
    response = _patch(api, work.pk, {"name": "Tên của Bình"}, read)
    assert response.status_code == 412
    body = response.json()
    assert body["current_version"] == work.version + 1
    assert body["changed"]["name"] == ["Đường nội đồng", "Tên của An"]
    work.refresh_from_db()
    assert work.name == "Tên của An"


@pytest.mark.parametrize("field", ["code", "current_commune", "stage", "is_staff", "id", "is_demo", "approved_commune"])
def test_protected_fields_cannot_be_mass_assigned(api, board, work, field):
    api.force_authenticate(board)
    body = {"progress": 10, field: 1}
    response = _patch(api, work.pk, body, f'"{work.version}"')
    assert response.status_code == 400
    assert field in json.dumps(response.json())
    work.refresh_from_db()
    assert (work.progress, work.version) == (0, work.version)


def test_token_authentication_works_and_anonymous_writes_are_refused(api, board, work):
    assert _patch(api, work.pk, {"progress": 30}, f'"{work.version}"').status_code in (401, 403)
    token = Token.objects.create(user=board)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert _patch(api, work.pk, {"progress": 30}, f'"{work.version}"').status_code == 200


def test_refusals_of_authentication_and_bad_text_speak_vietnamese(work):
    # DRF's and Django's own Vietnamese catalogues lack these: an API client was told in English.
    vietnamese = APIClient(HTTP_ACCEPT_LANGUAGE="vi")
    assert "Chưa có thông tin xác thực" in _patch(vietnamese, work.pk, {"progress": 30}, f'"{work.version}"').json()["detail"]
    vietnamese.credentials(HTTP_AUTHORIZATION="Token khong-co-that")
    assert _patch(vietnamese, work.pk, {"progress": 30}, f'"{work.version}"').json()["detail"] == "Mã token không hợp lệ."
    response = APIClient(HTTP_ACCEPT_LANGUAGE="vi").get("/api/works/?q=a%00b")
    assert response.status_code == 400 and "Không được dùng ký tự null." in json.dumps(response.json(), ensure_ascii=False)


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        (Role.COMMUNE_OFFICER, {"progress": 35}, 200),        # own commune, progress only
        (Role.COMMUNE_OFFICER, {"name": "Đổi tên"}, 403),     # not the officer's to rename
        (Role.AUDITOR, {"progress": 35}, 403),
        (Role.PLANNER, {"progress": 35}, 403),
    ],
)
def test_policy_decides_api_writes(api, work, role, body, status):
    phong_tho = AdminUnit.objects.current().get(level="commune", code="03549")
    api.force_authenticate(user_with_role(role, communes=[phong_tho]))
    version = work.version
    assert _patch(api, work.pk, body, f'"{version}"').status_code == status
    work.refresh_from_db()
    assert (work.version == version) == (status != 200)


def test_officer_cannot_touch_another_communes_work(api, work):
    dao_san = AdminUnit.objects.current().get(level="commune", code="03571")
    api.force_authenticate(user_with_role(Role.COMMUNE_OFFICER, communes=[dao_san]))
    assert _patch(api, work.pk, {"progress": 35}, f'"{work.version}"').status_code == 403
    work.refresh_from_db()
    assert work.progress == 0


def test_create_a_work_from_a_geojson_feature(api, board):
    api.force_authenticate(board)
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [103.361, 22.531]},
               "properties": {"code": "API-NEW", "name": "Trạm y tế", "category": "health", "approved_year": 2023}}
    response = api.post("/api/works/", data=json.dumps(feature), content_type="application/json")
    assert response.status_code == 201, response.content
    created = Work.objects.get(code="API-NEW")
    assert created.current_commune.code == "03549" and created.stage == Stage.PROPOSED


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [105.85, 21.03]}, "outside Lai Châu"),
        ({"type": "LineString", "coordinates": [[103.36, 22.53], [103.37, 22.54]]}, "not allowed"),
        ({"type": "Point", "coordinates": [103.36, 22.53], "crs": {"type": "name", "properties": {"name": "/etc/passwd"}}}, "crs"),
        ({"type": "GeometryCollection", "geometries": []}, "Unsupported"),
        ("POINT(103 22)", "GeoJSON geometry object"),
        # GDAL reads the GeoJSON, and its refusals were a 500
        ({"type": "Point", "coordinates": ["a", "b"]}, "could not be read"),
        ({"type": "Point", "coordinates": []}, "could not be read"),
        ({"type": "Point", "coordinates": [1]}, "could not be read"),
        ({"type": "Point", "coordinates": [[1, 2]]}, "could not be read"),
        ({"type": "Point", "coordinates": None}, "could not be read"),
        ({"type": "Polygon", "coordinates": [1, 2]}, "could not be read"),
        ({"type": "LineString", "coordinates": [[103.36, 22.53], ["x", 22.54]]}, "could not be read"),
    ],
)
def test_create_refuses_bad_geometry_with_a_clear_400(api, board, geometry, message):
    api.force_authenticate(board)
    body = {"code": "API-BAD", "name": "x", "category": "health", "approved_year": 2023, "geometry": geometry}
    response = api.post("/api/works/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert not Work.objects.filter(code="API-BAD").exists()


def test_stage_move_through_the_api_with_locking(api, board, work):
    api.force_authenticate(board)
    move = {"to_stage": "completed", "occurred_on": "2023-05-01", "decision_number": "BB-12"}
    stale = api.post(f"/api/works/{work.pk}/stage/", data=json.dumps(move), content_type="application/json",
                     HTTP_IF_MATCH=f'"{work.version - 1}"')
    assert stale.status_code == 412
    ok = api.post(f"/api/works/{work.pk}/stage/", data=json.dumps(move), content_type="application/json",
                  HTTP_IF_MATCH=f'"{work.version}"')
    assert ok.status_code == 200 and ok.json()["stage"] == "completed"
    jump = api.post(f"/api/works/{work.pk}/stage/", data=json.dumps({**move, "to_stage": "proposed"}),
                    content_type="application/json", HTTP_IF_MATCH=ok["ETag"])
    assert jump.status_code == 400


def test_money_through_the_api(api, board, work):
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    allocation = allocation_create(capital_plan=plan, programme_line=line, work=work, amount=1_000_000,
                                   allocated_on=date(2022, 10, 1), user=board)
    api.force_authenticate(user_with_role(Role.AUDITOR))
    payment = {"allocation": allocation.pk, "amount": 400_000, "paid_on": "2023-01-02", "voucher_number": "PC-API-1"}
    assert api.post("/api/disbursements/", data=json.dumps(payment), content_type="application/json").status_code == 403
    api.force_authenticate(board)
    assert api.post("/api/disbursements/", data=json.dumps(payment), content_type="application/json").status_code == 201
    over = {**payment, "amount": 600_001, "voucher_number": "PC-API-2"}
    response = api.post("/api/disbursements/", data=json.dumps(over), content_type="application/json")
    assert response.status_code == 400 and "exceeds what remains" in json.dumps(response.json())
    assert list(Disbursement.objects.values_list("voucher_number", flat=True)) == ["PC-API-1"]
    assert Allocation.objects.count() == 1


def test_api_amounts_are_read_exactly_or_refused(api, board, work):
    # DRF's own integer field reads "150.000" as 150 and rounds 150000.0000001 to 150000: neither is what was sent.
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    allocation = allocation_create(capital_plan=plan, programme_line=line, work=work, amount=1_000_000,
                                   allocated_on=date(2022, 10, 1), user=board)
    api.force_authenticate(board)
    payment = {"allocation": allocation.pk, "paid_on": "2023-01-02"}
    for number, amount in enumerate([150000.0000001, 150000.0, "150.0", "150,000", True], start=1):
        body = {**payment, "amount": amount, "voucher_number": f"PC-BAD-{number}"}
        response = api.post("/api/disbursements/", data=json.dumps(body), content_type="application/json")
        assert response.status_code == 400 and "amount" in response.json(), (amount, response.content)
    assert not Disbursement.objects.exists()
    body = {**payment, "amount": "150.000", "voucher_number": "PC-OK"}
    assert api.post("/api/disbursements/", data=json.dumps(body), content_type="application/json").status_code == 201
    assert Disbursement.objects.get().amount == 150_000
    response = _patch(api, work.pk, {"progress": "50.000"}, etag=f'"{work.version}"')
    assert response.status_code == 400  # fifty thousand per cent, not 50
    response = _patch(api, work.pk, {"planned_start": "0025-01-01"}, etag=f'"{work.version}"')
    assert response.status_code == 400 and "1900" in json.dumps(response.json())  # a year typed short
    assert Work.objects.get(pk=work.pk).planned_start is None
