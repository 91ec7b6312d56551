"""The admin's history pages, inlines and workbook follow the access policy as the change pages do.

simple_history's "history version" page saved its form when posted, for anyone who could view the record (an
auditor made themselves board through their own profile's page), and both history pages found the record
without the admin's queryset; the work's inlines showed stage notes and documents not public to officers of
other communes, who could also publish or replace the board's documents on their own works."""
from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from openpyxl import load_workbook

from gis.models import AdminUnit
from infra.accounts.models import Profile, Role
from infra.accounts.policy import role_of, sees_internal, works_internal
from infra.finance.models import CapitalPlan
from infra.maintenance.services import inspection_create
from infra.works.models import DocumentKind, StageEvent, Work, WorkDocument
from infra.works.services import work_check_proposer_scope
from tests.reliability.conftest import tables_checksum
from tests.reliability.matrix import ROLES, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

STAFF = [role for role in ROLES if role != "public"]
READS_HISTORY = {"board", "auditor"}


def _version_url(obj) -> str:
    meta = obj._meta
    return f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/history/{obj.history.latest().history_id}/"


def _with_history(obj):
    obj.save()  # reference rows loaded from fixtures have no history row of their own
    return obj


@pytest.mark.parametrize("role", STAFF)
def test_no_history_version_page_writes_for_anyone(client, register, role):
    user = login(client, role)
    targets = {
        "work": (register["R-1"], {"progress": "77", "expected_version": str(register["R-1"].version)}),
        "own profile": (user.profile, {"user": str(user.pk), "role": Role.BOARD}),
        "commune": (_with_history(AdminUnit.objects.get(level="commune", code="03562", valid_to=None)),
                    {"name": "Đổi tên", "level": "commune"}),
        "capital plan": (_with_history(CapitalPlan.objects.order_by("pk").first()), {"amount": "1"}),
    }
    before = tables_checksum()
    names = {key: type(obj).objects.filter(pk=obj.pk).values_list()[0] for key, (obj, _data) in targets.items()}
    for key, (obj, data) in targets.items():
        with transaction.atomic():
            response = client.post(_version_url(obj), data)
        assert response.status_code == 405, (key, response.status_code)
        assert type(obj).objects.filter(pk=obj.pk).values_list()[0] == names[key], key
    assert tables_checksum() == before
    assert role_of(Profile.objects.get(pk=user.profile.pk).user) == user.profile.role


@pytest.mark.parametrize("role", STAFF)
def test_history_pages_are_for_those_who_read_history_of_works_they_see(client, register, role):
    login(client, role)
    hidden = {"officer-pt": {"P-2"}, "officer-sll": {"P-1"}}.get(role, set())
    for code in ("A-1", "S-1", "P-1", "P-2"):
        work = Work.objects.get(pk=register[code].pk)
        for url in (f"/admin/works/work/{work.pk}/history/", _version_url(work)):
            status = client.get(url).status_code
            if code in hidden:
                assert status == 404, (code, url, status)
            elif role in READS_HISTORY:
                assert status == 200, (code, url, status)
            else:
                assert status == 403, (code, url, status)


def test_an_inspection_of_another_commune_is_not_read_through_its_history(client, register):
    inspection = inspection_create(user=None, work=register["S-1"], inspected_on=register["S-1"].stage_events.first().occurred_on,
                                   inspector="Trần Thị Giám Sát", condition="good", notes="ghi chú kiểm tra S")
    login(client, "officer-pt")
    for url in ("/admin/maintenance/inspection/", f"/admin/maintenance/inspection/{inspection.pk}/change/",
                f"/admin/maintenance/inspection/{inspection.pk}/history/", _version_url(inspection)):
        response = client.get(url, follow=True)
        assert "Trần Thị Giám Sát".encode() not in response.content, url
        assert "ghi chú kiểm tra S".encode() not in response.content, url
    login(client, "officer-sll")
    assert "ghi chú kiểm tra S".encode() in client.get(f"/admin/maintenance/inspection/{inspection.pk}/change/").content


def _documents(work):
    StageEvent.objects.filter(work=work).update(note="ghi chú giai đoạn nội bộ")
    WorkDocument.objects.create(work=work, kind=DocumentKind.DOCUMENT, title="Biên bản nội bộ", file="works/1/a.pdf")
    WorkDocument.objects.create(work=work, kind=DocumentKind.DOCUMENT, title="Quyết định công khai", file="works/1/b.pdf",
                                is_public=True)


def test_a_works_admin_page_hides_its_internal_parts_from_another_communes_officer(client, register):
    _documents(register["S-1"])
    url = f"/admin/works/work/{register['S-1'].pk}/change/"
    login(client, "officer-pt")
    page = client.get(url).content.decode()
    assert "Quyết định công khai" in page
    assert "Biên bản nội bộ" not in page and "ghi chú giai đoạn nội bộ" not in page and "a.pdf" not in page
    login(client, "officer-sll")
    page = client.get(url).content.decode()
    assert "Biên bản nội bộ" in page and "ghi chú giai đoạn nội bộ" in page


def test_an_officer_adds_documents_but_does_not_publish_or_change_those_there(client, register):
    work = register["A-1"]
    _documents(work)
    url = f"/admin/works/work/{work.pk}/change/"
    login(client, "board")
    page = client.get(url).content.decode()
    assert 'name="documents-0-title"' in page and 'name="documents-0-is_public"' in page
    login(client, "officer-pt")
    page = client.get(url).content.decode()
    assert "Biên bản nội bộ" in page  # their own commune's: read, not changed
    assert 'name="documents-0-title"' not in page and 'name="documents-0-is_public"' not in page
    assert 'name="documents-__prefix__-file"' in page and 'name="documents-__prefix__-is_public"' not in page


def test_an_officer_proposes_under_their_own_communes_only(register):
    from tests.reliability.matrix import make_user

    officer = make_user("officer-pt")
    phong_tho, si_lo_lau = (AdminUnit.objects.get(level="commune", code=code, valid_to=None) for code in ("03549", "03562"))
    place = Work.objects.get(pk=register["A-1"].pk).geometry
    work_check_proposer_scope(user=officer, geometry=place, approved_commune=phong_tho)
    with pytest.raises(PermissionDenied):
        work_check_proposer_scope(user=officer, geometry=place, approved_commune=si_lo_lau)


def test_an_officer_reads_internal_facts_of_their_communes_works_only(register):
    from tests.reliability.matrix import make_user

    officer = make_user("officer-pt")
    assert not sees_internal(officer)  # without a work: not every work's
    assert sees_internal(officer, register["A-1"]) and not sees_internal(officer, register["S-1"])
    codes = set(works_internal(officer).values_list("code", flat=True))
    assert {"A-1", "R-1", "P-1"} <= codes and not codes & {"S-1", "P-2"}
    assert works_internal(make_user("auditor")).count() == Work.objects.count()
    assert not works_internal(None).exists()


@pytest.mark.parametrize(("role", "has_history"), [("planner", False), ("auditor", True), ("board", True)])
def test_the_workbooks_history_sheet_is_for_those_who_read_history(client, register, role, has_history):
    login(client, role)
    response = client.get("/exports/xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content),
                         read_only=True)
    assert ("Lịch sử" in book.sheetnames) is has_history
    assert "Công trình" in book.sheetnames


def test_the_admin_history_list_shows_stages_by_their_labels(client, register):
    from django.utils import translation

    from infra.works.choices import Stage

    login(client, "auditor")
    page = client.get(f"/admin/works/work/{register['S-1'].pk}/history/").content.decode()
    with translation.override("vi"):
        assert str(Stage.DESIGNED.label) in page
        assert f"<th scope=\"col\">{translation.gettext('stage')}</th>" in page  # the column's header, translated
    assert ">designed<" not in page and "stage_label" not in page


def test_the_admins_own_screen_text_is_vietnamese(client, register):
    # Django's Vietnamese catalogue lacks its skip link and toggles: they were English (infra/i18n_thirdparty.py).
    login(client, "board")
    page = client.get("/admin/").content.decode()
    assert "Chuyển đến nội dung chính" in page and "Skip to main content" not in page
    assert "Toggle navigation" not in page


def test_the_admin_history_list_says_dash_where_a_version_has_no_reason_or_person(client, register):
    import re

    work = register["S-1"]
    work.progress = 50 if work.progress != 50 else 51
    work.save()  # saved outside a request: no person, no reason
    login(client, "auditor")
    url = f"/admin/works/work/{work.pk}/history/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    reasons = re.findall(r'<td class="history-reason">(.*?)</td>', page, re.S)
    assert reasons and all(reason.strip() == "—" for reason in reasons)
    assert "None" not in page and "Không có" not in re.sub(r"<thead>.*?</thead>", "", page, flags=re.S)
    assert "Lý do thay đổi" in page and f"{work.history.count()} phiên bản" in page

    work.progress = 52
    work._change_reason = "Sửa số liệu theo biên bản nghiệm thu"  # history is append-only: a reason comes with a save
    work.save()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    reasons = [reason.strip() for reason in re.findall(r'<td class="history-reason">(.*?)</td>', page, re.S)]
    assert reasons[0] == "Sửa số liệu theo biên bản nghiệm thu"  # the latest version first
