"""Creating and editing works through the services: rules, derived commune, history."""
from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError

from gis.models import AdminUnit
from infra.works.choices import Category, Stage
from infra.works.models import StageEvent, Work
from infra.works.selectors import province_area, province_area_kept
from infra.works.services import StaleVersion, work_create, work_stage_change, work_update
from tests.factories import PHONG_THO_POINT, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _create(user, **overrides):
    fields = {"code": "W-1", "name": "Trạm y tế xã", "category": Category.HEALTH,
              "geometry": Point(*PHONG_THO_POINT, srid=4326), "approved_year": 2022, "stage_date": date(2022, 8, 3)}
    fields.update(overrides)
    return work_create(user=user, **fields)


def test_current_commune_is_derived_from_geometry(reference):
    work = _create(UserFactory())
    holder = AdminUnit.objects.current().get(level="commune", boundary__contains=Point(*PHONG_THO_POINT, srid=4326))
    assert work.current_commune == holder
    assert work.current_commune.valid_to is None


def test_moving_the_geometry_moves_the_current_commune(reference):
    user = UserFactory()
    work = _create(user)
    other = AdminUnit.objects.current().filter(level="commune").exclude(pk=work.current_commune_id).exclude(centre__isnull=True).first()
    inside = other.centre
    updated = work_update(work=work, user=user, expected_version=work.version, geometry=Point(inside.x, inside.y, srid=4326))
    assert updated.current_commune == other


@pytest.mark.parametrize(
    ("overrides", "message_part"),
    [
        pytest.param({"geometry": LineString((103.36, 22.53), (103.37, 22.54), srid=4326)}, "not allowed", id="line-for-health"),
        pytest.param({"geometry": Point(105.85, 21.03, srid=4326)}, "outside Lai Châu", id="hanoi"),
        pytest.param({"geometry": Point(22.53, 103.36, srid=4326)}, "swapped", id="lat-lon-swapped"),
        pytest.param({"category": Category.SCHOOL, "geometry": Polygon(
            ((103.36, 22.53), (103.37, 22.54), (103.37, 22.53), (103.36, 22.54), (103.36, 22.53)), srid=4326)}, "invalid", id="bowtie"),
        pytest.param({"geometry": Point(103.36, 22.53, srid=3405)}, "EPSG:4326", id="wrong-srid"),
        pytest.param({"category": "bakery"}, "Unknown category", id="unknown-category"),
    ],
)
def test_work_create_refuses_bad_geometry_with_a_clear_message(reference, overrides, message_part):
    with pytest.raises(ValidationError) as caught:
        _create(UserFactory(), **overrides)
    assert message_part in " ".join(caught.value.messages)
    assert not Work.objects.exists()
    assert not StageEvent.objects.exists()


def test_work_create_refuses_protected_fields(reference):
    with pytest.raises(ValidationError):
        _create(UserFactory(), version=99)
    assert not Work.objects.exists()


def test_edit_is_recorded_in_history_with_who_and_before_after(reference):
    board = UserFactory(username="board-member")
    work = _create(board, total_investment=1_000_000_000)
    work_update(work=work, user=board, expected_version=work.version, total_investment=1_200_000_000)

    latest, previous = work.history.order_by("-history_id")[:2]
    assert latest.history_user == board
    delta = latest.diff_against(previous)
    changes = {c.field: (c.old, c.new) for c in delta.changes}
    assert changes["total_investment"] == (1_000_000_000, 1_200_000_000)
    assert latest.version == previous.version + 1


def test_stale_save_is_refused_and_the_other_edit_survives(reference):
    first, second = UserFactory(), UserFactory()
    work = _create(first)
    read_version = work.version
    work_update(work=work, user=first, expected_version=read_version, name="Tên mới của người thứ nhất")
    with pytest.raises(StaleVersion) as caught:
        work_update(work=work, user=second, expected_version=read_version, name="Tên của người thứ hai")
    assert "name" in caught.value.changed
    work.refresh_from_db()
    assert work.name == "Tên mới của người thứ nhất"


def test_stage_history_is_dated_and_refuses_dates_out_of_order(reference):
    user = UserFactory()
    work = _create(user)
    work_stage_change(work=work, user=user, to_stage=Stage.APPROVED, occurred_on=date(2022, 10, 1), decision_number="12/QĐ-UBND")
    with pytest.raises(ValidationError) as caught:
        work_stage_change(work=work, user=user, to_stage=Stage.DESIGNED, occurred_on=date(2022, 9, 1))
    assert "before the previous stage change" in " ".join(caught.value.messages)
    work.refresh_from_db()
    assert work.stage == Stage.APPROVED
    assert list(work.stage_events.values_list("to_stage", flat=True)) == [Stage.PROPOSED, Stage.APPROVED]


def test_stage_cannot_jump_from_proposed_to_handed_over(reference):
    user = UserFactory()
    work = _create(user)
    with pytest.raises(ValidationError):
        work_stage_change(work=work, user=user, to_stage=Stage.HANDED_OVER, occurred_on=date(2023, 1, 1))
    work.refresh_from_db()
    assert work.stage == Stage.PROPOSED


def test_progress_only_while_under_construction(reference):
    user = UserFactory()
    work = _create(user)
    with pytest.raises(ValidationError):
        work_update(work=work, user=user, expected_version=work.version, progress=40)
    work.refresh_from_db()
    assert work.progress == 0


def test_the_province_outline_is_kept_only_inside_its_block(reference):
    province = AdminUnit.objects.get(level="province", code=settings.PROVINCE_CODE, valid_to__isnull=True)
    first = province_area()
    with province_area_kept():
        kept = province_area()
        assert kept.equals(first)
        province.boundary = MultiPolygon(Polygon(((103, 22), (104, 22), (104, 23), (103, 23), (103, 22))), srid=4326)
        province.save(update_fields=["boundary"])
        assert province_area() is kept  # one import checks every row against one outline
    assert province_area().equals(province.boundary)  # after it, the outline as it is now
    assert province_area() is not province_area()


def test_a_date_outside_1900_2100_is_refused_by_the_services_and_nothing_changes(reference):
    # Forms, the admin, the API and imports refuse such a year already; the services do too, for any other path.
    user = UserFactory()
    with pytest.raises(ValidationError) as caught:
        _create(user, code="W-2205", planned_end=date(2205, 1, 1))
    assert "planned_end" in caught.value.message_dict and not Work.objects.filter(code="W-2205").exists()
    work = _create(user)
    with pytest.raises(ValidationError) as caught:
        work_update(work=work, user=user, expected_version=work.version, planned_start=date(25, 3, 1))
    assert "1900" in caught.value.message_dict["planned_start"][0]
    stored = Work.objects.get(pk=work.pk)
    assert stored.planned_start is None and stored.version == work.version
    events = StageEvent.objects.filter(work=work).count()
    with pytest.raises(ValidationError) as caught:
        work_stage_change(work=stored, user=user, to_stage=Stage.APPROVED, occurred_on=date(25, 9, 1))
    assert "occurred_on" in caught.value.message_dict
    assert StageEvent.objects.filter(work=work).count() == events and Work.objects.get(pk=work.pk).stage == stored.stage


def test_text_with_an_invisible_control_character_is_refused_saying_where(reference):
    # Word's manual line break (U+000B) pasted into a name or description was stored, invisible on screen, and
    # failed every workbook export of the register; it is now refused with where it is. Line breaks are text.
    user = UserFactory()
    with pytest.raises(ValidationError) as caught:
        _create(user, code="W-CC", name="Trạm y tế\x0bbản Mới")
    assert "U+000B" in caught.value.message_dict["name"][0] and "10" in caught.value.message_dict["name"][0]
    assert not Work.objects.filter(code="W-CC").exists()
    work = _create(user, code="W-OK", description="Dòng 1\nDòng 2\tcột")
    with pytest.raises(ValidationError) as caught:
        work_update(work=work, user=user, expected_version=work.version, description="Mô tả\x1f")
    assert "description" in caught.value.message_dict
    assert Work.objects.get(pk=work.pk).description == "Dòng 1\nDòng 2\tcột"


def test_a_work_stored_before_a_rule_can_still_change_stage(reference):
    # A description holding Word's line break, or a planned date of year 25, stored before those were refused,
    # kept the work from changing stage (the change re-checked every field); it re-checks what it sets.
    user = UserFactory()
    work = _create(user, code="W-OLD")
    Work.objects.filter(pk=work.pk).update(description="Mô tả\x0bcũ", planned_start=date(25, 1, 1))
    event = work_stage_change(work=Work.objects.get(pk=work.pk), user=user, to_stage=Stage.APPROVED,
                              occurred_on=date(2022, 9, 1))
    assert event.to_stage == Stage.APPROVED and Work.objects.get(pk=work.pk).stage == Stage.APPROVED
    # Editing the work itself names what must be mended.
    stored = Work.objects.get(pk=work.pk)
    with pytest.raises(ValidationError) as caught:
        work_update(work=stored, user=user, expected_version=stored.version, name="Trạm y tế xã (mới)")
    assert {"description", "planned_start"} <= set(caught.value.message_dict)


@pytest.mark.parametrize(("change", "field"), [({"note": "Tạm dừng\x0bdo mưa"}, "note"),
                                               ({"decision_number": "Q" * 81}, "decision_number")])
def test_a_stage_changes_note_and_number_are_checked_before_anything_is_written(reference, change, field):
    # The stage event was saved unchecked: a control character was stored, and on PostgreSQL a decision number
    # past its 80 characters failed the request after the work had been changed in the same transaction.
    user = UserFactory()
    work = _create(user, code="W-EV")
    with pytest.raises(ValidationError) as caught:
        work_stage_change(work=work, user=user, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1), **change)
    assert field in caught.value.message_dict
    stored = Work.objects.get(pk=work.pk)
    assert (stored.stage, stored.version) == (work.stage, work.version)
    assert not StageEvent.objects.filter(work=work, to_stage=Stage.APPROVED).exists()
