"""Each role × commune × action: allowed things work, refused things change nothing, lists never leak."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import Point

from gis.models import AdminUnit
from infra.accounts.models import Role
from infra.accounts.policy import Action, can, commune_scope, works_visible
from infra.finance.models import Allocation, CapitalKind, CapitalPlan, ProgrammeNode
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.services import work_create, work_stage_change
from tests.factories import user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PHONG_THO, DAO_SAN = "03549", "03571"


def _current(code):
    return AdminUnit.objects.current().get(level="commune", code=code)


def _staff(role, **kwargs):
    # Every Django model permission, so that only the access policy can refuse.
    user = user_with_role(role, is_staff=True, **kwargs)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def people(reference):
    phong_tho = _current(PHONG_THO)
    former = list(AdminUnit.objects.filter(successions__successor=phong_tho))
    return {
        "board": _staff(Role.BOARD, username="board"),
        "officer": _staff(Role.COMMUNE_OFFICER, username="officer", communes=[former[0]]),  # bound to a pre-2025 commune
        "planner": _staff(Role.PLANNER, username="planner"),
        "auditor": _staff(Role.AUDITOR, username="auditor"),
    }


@pytest.fixture
def works(people):
    def make(code, commune_code, stage=Stage.PROPOSED):
        centre = _current(commune_code).centre
        work = work_create(user=people["board"], code=code, name=f"Công trình {code}", category=Category.HEALTH,
                           geometry=Point(centre.x, centre.y, srid=4326), approved_year=2022, stage_date=date(2022, 8, 1),
                           internal_notes="nội bộ")
        for step, day in [(Stage.APPROVED, 2), (Stage.DESIGNED, 3), (Stage.CONTRACTED, 4), (Stage.UNDER_CONSTRUCTION, 5)]:
            if Stage.values.index(stage) < Stage.values.index(step):
                break
            work_stage_change(work=work, user=people["board"], to_stage=step, occurred_on=date(2022, 9, day))
        return Work.objects.get(pk=work.pk)

    return {
        "own_proposed": make("OWN-P", PHONG_THO),
        "own_building": make("OWN-B", PHONG_THO, Stage.UNDER_CONSTRUCTION),
        "other_proposed": make("OTHER-P", DAO_SAN),
        "other_building": make("OTHER-B", DAO_SAN, Stage.UNDER_CONSTRUCTION),
    }


def test_officer_bound_to_a_former_commune_covers_its_successor(people):
    assert _current(PHONG_THO).pk in commune_scope(people["officer"])
    assert _current(DAO_SAN).pk not in commune_scope(people["officer"])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("public", {"OWN-B", "OTHER-B"}),
        ("officer", {"OWN-P", "OWN-B", "OTHER-B"}),
        ("board", {"OWN-P", "OWN-B", "OTHER-P", "OTHER-B"}),
        ("planner", {"OWN-P", "OWN-B", "OTHER-P", "OTHER-B"}),
        ("auditor", {"OWN-P", "OWN-B", "OTHER-P", "OTHER-B"}),
    ],
)
def test_lists_show_exactly_what_the_role_may_see(client, people, works, who, expected):
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser() if who == "public" else people[who]
    assert set(works_visible(user).values_list("code", flat=True)) == expected
    if who != "public":
        client.force_login(user)
    layer = client.get("/layers/works.geojson").json()
    assert {f["properties"]["code"] for f in layer["features"]} == expected
    if who != "public":
        page = client.get("/admin/works/work/").content.decode()
        for code in {"OWN-P", "OWN-B", "OTHER-P", "OTHER-B"}:
            assert (f">{code}<" in page) == (code in expected), code


@pytest.mark.parametrize(
    ("who", "work", "allowed"),
    [
        ("board", "other_building", True),
        ("officer", "own_building", True),
        ("officer", "other_building", False),
        ("planner", "own_building", False),
        ("auditor", "own_building", False),
    ],
)
def test_progress_update_through_the_admin(client, people, works, who, work, allowed):
    target = works[work]
    client.force_login(people[who])
    url = f"/admin/works/work/{target.pk}/change/"
    page = client.get(url)
    shown = page.status_code == 200 and page.context and "adminform" in page.context
    data = {**(_admin_form_data(page, target) if shown else {}), "progress": 55}
    response = client.post(url, data)
    target.refresh_from_db()
    if allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert target.progress == 55
    else:
        assert response.status_code in (403, 404)
        assert target.progress == 0


def test_officer_cannot_rename_even_own_work(client, people, works):
    target = works["own_building"]
    client.force_login(people["officer"])
    page = client.get(f"/admin/works/work/{target.pk}/change/").content.decode()
    assert 'name="name"' not in page  # read-only for commune officers
    assert 'name="progress"' in page


@pytest.mark.parametrize("who", ["officer", "planner", "auditor"])
def test_only_the_board_records_money(client, people, works, who):
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    client.force_login(people[who])
    response = client.post("/admin/finance/allocation/add/", {
        "capital_plan": plan.pk, "programme_line": line.pk, "work": works["own_building"].pk, "amount": 1000,
        "allocated_on": "2022-10-01"})
    assert response.status_code == 403
    assert not Allocation.objects.exists()


def test_board_records_money_through_the_admin_and_over_plan_is_refused(client, people, works):
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    client.force_login(people["board"])
    base = {"capital_plan": plan.pk, "programme_line": line.pk, "work": works["own_building"].pk, "allocated_on": "2022-10-01",
            "decision_number": "1/QĐ"}
    refused = client.post("/admin/finance/allocation/add/", {**base, "amount": plan.amount + 1})
    # The refusal is shown on the form, in Vietnamese.
    assert refused.status_code == 200 and "vượt quá phần còn lại của kế hoạch vốn" in refused.content.decode()
    assert not Allocation.objects.exists()
    # "150.000" is a hundred and fifty thousand, not 150 (Django's own field read 150); "150,5" is refused.
    halves = client.post("/admin/finance/allocation/add/", {**base, "amount": "150,5"})
    assert halves.status_code == 200 and "dấu chấm để tách hàng nghìn" in halves.content.decode()
    assert not Allocation.objects.exists()
    long_ago = client.post("/admin/finance/allocation/add/", {**base, "amount": "150.000", "allocated_on": "01/10/0022"})
    assert long_ago.status_code == 200 and "1900" in long_ago.content.decode() and not Allocation.objects.exists()
    accepted = client.post("/admin/finance/allocation/add/", {**base, "amount": "150.000"})
    assert accepted.status_code == 302
    assert Allocation.objects.get().recorded_by == people["board"] and Allocation.objects.get().amount == 150_000


def test_a_payment_recorded_in_the_admin_is_recorded_once_and_said_so(client, people, works):
    # The service wrote from the form's clean(), before the model's unique check, which then found the row
    # just written: the page said "already exists" while the payment stayed recorded.
    from infra.finance.models import Disbursement
    from infra.finance.services import allocation_create

    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    allocation = allocation_create(capital_plan=plan, programme_line=line, work=works["own_building"], amount=100_000_000,
                                   allocated_on=date(2022, 10, 1), user=people["board"])
    client.force_login(people["board"])
    payment = {"allocation": allocation.pk, "amount": "30.000.000", "paid_on": "01/11/2022", "voucher_number": "PC-7"}
    first = client.post("/admin/finance/disbursement/add/", payment)
    assert first.status_code == 302
    assert list(Disbursement.objects.values_list("voucher_number", "amount")) == [("PC-7", 30_000_000)]
    again = client.post("/admin/finance/disbursement/add/", payment)
    assert again.status_code == 200 and "đã tồn tại" in again.content.decode()
    assert Disbursement.objects.count() == 1


def test_a_reversal_in_the_admin_is_refused_when_the_form_says_other_than_what_would_be_stored(client, people, works):
    # The services copy the reversed row's plan, line, work and allocation, and a payment reversal cancels the
    # whole payment: the admin stored those, whatever was typed, without a word (5.000.000 typed, 50.000.000 kept).
    from infra.finance.models import Disbursement
    from infra.finance.services import allocation_create, disbursement_create

    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)
    line = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    board = people["board"]
    work = works["own_building"]
    allocation = allocation_create(capital_plan=plan, programme_line=line, work=work, amount=100_000_000,
                                   allocated_on=date(2022, 10, 1), user=board)
    payment = disbursement_create(allocation=allocation, amount=50_000_000, paid_on=date(2022, 11, 1), voucher_number="PC-1",
                                  user=board)
    client.force_login(board)
    partial = client.post("/admin/finance/disbursement/add/", {
        "allocation": allocation.pk, "amount": "5.000.000", "paid_on": "02/11/2022", "reverses": payment.pk,
        "voucher_number": "PC-2", "note": "Chi nhầm"})
    page = partial.content.decode()
    assert partial.status_code == 200 and "hủy toàn bộ khoản chi đó: số tiền là 50.000.000 đồng" in page
    assert Disbursement.objects.count() == 1
    other_work = works["own_proposed"]
    moved = client.post("/admin/finance/allocation/add/", {
        "capital_plan": plan.pk, "programme_line": line.pk, "work": other_work.pk, "amount": "10.000.000",
        "allocated_on": "02/10/2022", "reverses": allocation.pk, "note": "Điều chỉnh"})
    assert moved.status_code == 200 and "giữ nguyên giá trị của dòng bị hủy" in moved.content.decode()
    assert Allocation.objects.count() == 1
    whole = client.post("/admin/finance/disbursement/add/", {
        "allocation": allocation.pk, "amount": "50.000.000", "paid_on": "02/11/2022", "reverses": payment.pk,
        "voucher_number": "PC-2", "note": "Chi nhầm"})
    assert whole.status_code == 302 and Disbursement.objects.filter(reverses=payment, amount=50_000_000).exists()


@pytest.mark.parametrize(("who", "status"), [("board", 302), ("officer", 403), ("auditor", 403), ("planner", 403)])
def test_stage_changes_are_the_boards(client, people, works, who, status):
    target = works["own_proposed"]
    client.force_login(people[who])
    response = client.post(f"/admin/works/work/{target.pk}/stage/", {
        "to_stage": Stage.APPROVED, "occurred_on": "2022-10-01", "expected_version": target.version})
    assert response.status_code == status
    target.refresh_from_db()
    assert (target.stage == Stage.APPROVED) == (status == 302)


def test_stage_form_refuses_a_stale_version(client, people, works):
    target = works["own_proposed"]
    client.force_login(people["board"])
    response = client.post(f"/admin/works/work/{target.pk}/stage/", {
        "to_stage": Stage.APPROVED, "occurred_on": "2022-10-01", "expected_version": target.version - 1})
    assert response.status_code == 200
    assert "Người khác đã lưu công trình này" in response.content.decode()
    target.refresh_from_db()
    assert target.stage == Stage.PROPOSED


def test_nobody_deletes_through_the_admin(client, people, works):
    client.force_login(people["board"])
    target = works["own_proposed"]
    assert client.post(f"/admin/works/work/{target.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Work.objects.filter(pk=target.pk).exists()


def test_can_is_scoped_per_work(people, works):
    officer = people["officer"]
    assert can(officer, Action.WORK_PROGRESS, works["own_building"])
    assert not can(officer, Action.WORK_PROGRESS, works["other_building"])
    assert not can(officer, Action.WORK_EDIT, works["own_building"])
    assert can(people["auditor"], Action.HISTORY_READ)
    assert not can(people["auditor"], Action.WORK_EDIT, works["own_building"])


def test_every_admin_form_reads_numbers_and_dates_with_the_project_s_fields(works):
    # Django's own integer field read "150.000" as 150 and its date field took the year 25: every column the admin
    # lets someone type into, in every policy admin and its inlines (whichever app wrote them), uses the fields that
    # refuse both (infra.numbers, infra.dates).
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.db import models
    from django.test import RequestFactory

    from infra.accounts.admin_policy import PolicyAdminMixin
    from infra.dates import DateField
    from infra.numbers import WholeNumberField

    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(username="root", is_staff=True, is_superuser=True)
    seen = set()
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, PolicyAdminMixin):
            continue
        obj = model.objects.first()
        for form_admin in [model_admin, *model_admin.get_inline_instances(request, obj)]:
            typed = [f for f in form_admin.model._meta.concrete_fields if f.editable and not f.is_relation
                     and not f.primary_key and f.name not in form_admin.readonly_fields
                     and isinstance(f, models.IntegerField | models.DateField) and not isinstance(f, models.DateTimeField)]
            for field in typed:
                expected = WholeNumberField if isinstance(field, models.IntegerField) else DateField
                assert isinstance(form_admin.formfield_for_dbfield(field, request), expected), (form_admin, field.name)
                seen.add(f"{form_admin.model.__name__}.{field.name}")
    # Money and dates of the board's own forms, and dates of inlines written in gis and infra.works.
    assert {"Allocation.amount", "Disbursement.paid_on", "CapitalPlan.amount", "Work.total_investment", "Work.progress",
            "WorkInvestor.valid_from", "AdminUnitSuccession.effective_on"} <= seen, sorted(seen)


def _admin_form_data(page, work) -> dict:
    """What the work's admin change page would post back unchanged (its initial values, no inline rows)."""
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None and name != "geometry":
            data[name] = value if not hasattr(value, "pk") else value.pk
    data["geometry"] = work.geometry.geojson
    for prefix in ("stage_events", "investors", "documents"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


@pytest.mark.parametrize(("posted", "recorded"), [
    ("0", False), ("false", False), ("False", False), ("off", False), ("no", False), (" 0 ", False), (None, False),
    ("on", True), ("1", True), ("true", True),
])
def test_a_yes_no_box_in_the_admin_reads_a_posted_no_as_no(client, people, works, posted, recorded):
    # Django's box read any text but "false" as ticked: a script posting special_mechanism=0 recorded yes.
    target = works["other_building"]
    Work.objects.filter(pk=target.pk).update(special_mechanism=not recorded)
    client.force_login(people["board"])
    url = f"/admin/works/work/{target.pk}/change/"
    data = _admin_form_data(client.get(url), target)
    data.pop("special_mechanism", None)
    if posted is not None:
        data["special_mechanism"] = posted
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.special_mechanism is recorded


def test_a_yes_no_field_that_may_be_unknown_keeps_its_three_way_list(client, people, works):
    client.force_login(people["board"])
    form = client.get(f"/admin/works/work/{works['other_building'].pk}/change/").context["adminform"].form
    from gis.admin import YesNoBox

    assert isinstance(form.fields["special_mechanism"].widget, YesNoBox)
    assert not isinstance(form.fields["all_season"].widget, YesNoBox)  # yes, no or not known
    assert form.fields["all_season"].widget.__class__.__name__ == "NullBooleanSelect"
