"""Maintenance services: schedules, default tasks at handover, inspections proposing repairs, records, permissions."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from infra.maintenance.models import Condition, Inspection, Record, ResponsibleKind, Schedule, TaskKind
from infra.maintenance.services import (
    inspection_create,
    record_create,
    schedule_close,
    schedule_create,
    schedule_update,
    schedules_apply_templates,
)
from infra.maintenance.templates import TEMPLATES
from infra.works.choices import Category, Stage
from infra.works.models import DocumentKind, WorkDocument

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _schedule(work, user, **overrides):
    fields = {"task_kind": TaskKind.ROUTINE, "interval_months": 3, "starts_on": date(2026, 1, 31),
              "responsible": ResponsibleKind.COMMUNE_COMMITTEE, "estimated_cost": 5_000_000, "description": "Phát quang"}
    fields.update(overrides)
    return schedule_create(user=user, work=work, **fields)


# ---- schedules ------------------------------------------------------------------------------------

def test_a_schedule_is_created_with_its_history_user(road, people):
    schedule = _schedule(road, people["planner"])
    assert schedule.next_due == date(2026, 1, 31)
    assert schedule.history.get().history_user == people["planner"]


@pytest.mark.parametrize(("interval", "kind"), [(0, TaskKind.ROUTINE), (-1, TaskKind.ROUTINE), (None, TaskKind.ROUTINE),
                                                (None, TaskKind.PERIODIC), (1.5, TaskKind.ROUTINE), (0, TaskKind.REPAIR),
                                                (1201, TaskKind.PERIODIC), (32767, TaskKind.REPAIR)])
def test_an_interval_out_of_range_is_refused_and_nothing_is_written(road, people, interval, kind):
    with pytest.raises(ValidationError) as caught:
        _schedule(road, people["planner"], interval_months=interval, task_kind=kind)
    assert "interval_months" in caught.value.message_dict
    assert "month" in " ".join(caught.value.messages)
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("cost", [-1, 1.5, "100", True])
def test_a_negative_or_fractional_cost_is_refused(road, people, cost):
    with pytest.raises(ValidationError):
        _schedule(road, people["planner"], estimated_cost=cost)
    assert not Schedule.objects.exists()


def test_a_one_off_repair_needs_no_interval(road, people):
    repair = _schedule(road, people["planner"], task_kind=TaskKind.REPAIR, interval_months=None, starts_on=date(2026, 3, 1))
    assert not repair.is_recurring and repair.next_due == date(2026, 3, 1)


def test_update_refuses_a_zero_interval_and_keeps_the_old_one(road, people):
    schedule = _schedule(road, people["planner"])
    with pytest.raises(ValidationError):
        schedule_update(user=people["planner"], schedule=schedule, interval_months=0)
    schedule.refresh_from_db()
    assert schedule.interval_months == 3
    schedule_update(user=people["planner"], schedule=schedule, interval_months=6, estimated_cost=7_000_000)
    schedule.refresh_from_db()
    assert (schedule.interval_months, schedule.estimated_cost) == (6, 7_000_000)
    with pytest.raises(ValidationError):
        schedule_update(user=people["planner"], schedule=schedule, last_done=date(2026, 1, 1))  # moved by records only


def test_closing_a_task_needs_a_reason(road, people):
    schedule = _schedule(road, people["planner"])
    with pytest.raises(ValidationError):
        schedule_close(user=people["planner"], schedule=schedule, on=date(2026, 2, 1), note=" ")
    schedule_close(user=people["planner"], schedule=schedule, on=date(2026, 2, 1), note="Công trình ngừng sử dụng")
    schedule.refresh_from_db()
    assert schedule.closed_on == date(2026, 2, 1) and schedule.next_due is None


# ---- default tasks at handover ----------------------------------------------------------------------

def test_templates_give_a_handed_over_road_routine_and_periodic_tasks(road, people):
    created = schedules_apply_templates(work=road, user=people["board"], on=date(2023, 7, 1))
    tasks = {s.task_kind: s for s in created}
    assert set(tasks) == {TaskKind.ROUTINE, TaskKind.PERIODIC}
    assert (tasks[TaskKind.ROUTINE].interval_months, tasks[TaskKind.ROUTINE].next_due) == (3, date(2023, 10, 1))
    assert (tasks[TaskKind.PERIODIC].interval_months, tasks[TaskKind.PERIODIC].next_due) == (24, date(2025, 7, 1))
    # 0.5 % and 4 % of 2 billion VND
    assert (tasks[TaskKind.ROUTINE].estimated_cost, tasks[TaskKind.PERIODIC].estimated_cost) == (10_000_000, 80_000_000)
    # stored in the register's language (Vietnamese), whatever the screen's language
    assert tasks[TaskKind.ROUTINE].description == tasks[TaskKind.ROUTINE].description.strip() != ""
    assert tasks[TaskKind.ROUTINE].history.get().history_user == people["board"]


def test_templates_are_applied_once(road, people):
    schedules_apply_templates(work=road, user=people["board"], on=date(2023, 7, 1))
    assert schedules_apply_templates(work=road, user=people["board"], on=date(2023, 7, 1)) == []
    assert Schedule.objects.filter(work=road).count() == 2


def test_templates_leave_a_task_scheduled_by_hand(road, people):
    _schedule(road, people["planner"], interval_months=2)
    created = schedules_apply_templates(work=road, user=people["board"], on=date(2023, 7, 1))
    assert [s.task_kind for s in created] == [TaskKind.PERIODIC]
    assert Schedule.objects.get(work=road, task_kind=TaskKind.ROUTINE).interval_months == 2


def test_water_works_get_a_quarterly_source_and_pipe_check(make_work, people):
    water = make_work(category=Category.WATER, investment=1_000_000_000)
    created = schedules_apply_templates(work=water, user=people["board"], on=date(2024, 1, 31))
    routine = next(s for s in created if s.task_kind == TaskKind.ROUTINE)
    assert routine.interval_months == 3 and routine.next_due == date(2024, 4, 30)
    assert routine.responsible == ResponsibleKind.COMMUNITY


def test_every_category_has_a_routine_template():
    for category in Category.values:
        kinds = [t.task_kind for t in TEMPLATES[category]]
        assert TaskKind.ROUTINE in kinds and len(kinds) == len(set(kinds))
        assert all(t.interval_months >= 1 for t in TEMPLATES[category])


def test_only_those_who_manage_upkeep_or_stages_apply_templates(road, people):
    with pytest.raises(PermissionDenied):
        schedules_apply_templates(work=road, user=people["auditor"], on=date(2023, 7, 1))
    assert not Schedule.objects.exists()


# ---- inspections ------------------------------------------------------------------------------------

def test_an_inspection_dated_in_the_future_is_refused_and_nothing_is_written(road, people):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        inspection_create(user=people["officer"], work=road, inspected_on=tomorrow, inspector="Cán bộ xã",
                          condition=Condition.FAILED)
    assert caught.value.message_dict == {"inspected_on": ["An inspection cannot be dated in the future."]}
    assert not Inspection.objects.exists() and not Schedule.objects.exists()


@pytest.mark.parametrize(("condition", "cost"), [(Condition.POOR, 100_000_000), (Condition.FAILED, 300_000_000)])
def test_a_poor_or_failed_inspection_proposes_a_repair(road, people, condition, cost):
    inspection = inspection_create(user=people["officer"], work=road, inspected_on=date(2026, 3, 2), inspector="Cán bộ xã",
                                   condition=condition, notes="Sạt lở taluy")
    repair = inspection.proposed_repairs.get()
    assert repair.task_kind == TaskKind.REPAIR and not repair.is_recurring
    assert repair.next_due == date(2026, 3, 2)          # due at once
    assert repair.estimated_cost == cost                 # 5 % / 15 % of 2 billion VND
    assert "02/03/2026" in repair.description
    assert repair.history.get().history_user == people["officer"]


@pytest.mark.parametrize("condition", [Condition.GOOD, Condition.FAIR])
def test_a_good_or_fair_inspection_proposes_nothing(road, people, condition):
    inspection_create(user=people["officer"], work=road, inspected_on=date(2026, 3, 2), inspector="X", condition=condition)
    assert not Schedule.objects.exists()


def test_a_second_bad_inspection_does_not_duplicate_an_open_repair_but_one_after_the_repair_does(road, people):
    first = inspection_create(user=people["planner"], work=road, inspected_on=date(2026, 3, 2), inspector="X",
                              condition=Condition.POOR, repair_cost=40_000_000)
    inspection_create(user=people["planner"], work=road, inspected_on=date(2026, 4, 2), inspector="X", condition=Condition.FAILED)
    repair = Schedule.objects.get(task_kind=TaskKind.REPAIR)
    assert repair.proposed_by == first and repair.estimated_cost == 40_000_000
    record_create(user=people["planner"], work=road, done_on=date(2026, 5, 1), cost=38_000_000, description="Kè lại taluy",
                  schedule=repair)
    inspection_create(user=people["planner"], work=road, inspected_on=date(2026, 9, 1), inspector="X", condition=Condition.POOR)
    assert Schedule.objects.filter(task_kind=TaskKind.REPAIR).count() == 2


def test_an_older_bad_inspection_entered_late_proposes_no_repair(road, people):
    # Only the work's latest inspection speaks for its condition: a failed one of 2025 entered after a good one of
    # 2026 proposed a repair due in 2025, which the plan then put first as long overdue.
    inspection_create(user=people["officer"], work=road, inspected_on=date(2026, 6, 1), inspector="X", condition=Condition.GOOD)
    late = inspection_create(user=people["officer"], work=road, inspected_on=date(2025, 3, 1), inspector="X",
                             condition=Condition.FAILED)
    assert not late.proposed_repairs.exists() and not Schedule.objects.exists()
    # one of the same day as the latest, or after it, still proposes
    inspection_create(user=people["officer"], work=road, inspected_on=date(2026, 6, 1), inspector="Y", condition=Condition.POOR)
    assert Schedule.objects.get().task_kind == TaskKind.REPAIR


def _jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "JPEG")
    return SimpleUploadedFile("anh.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_inspection_photos_are_checked_and_attached(road, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspection = inspection_create(user=people["officer"], work=road, inspected_on=date(2026, 3, 2), inspector="X",
                                   condition=Condition.FAIR, photos=[_jpeg()])
    photo = inspection.photos.get()
    assert photo.kind == DocumentKind.PHOTO and photo.work == road and not photo.is_public
    bad = SimpleUploadedFile("anh.jpg", b"#!/bin/sh\necho", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        inspection_create(user=people["officer"], work=road, inspected_on=date(2026, 3, 3), inspector="X",
                          condition=Condition.POOR, photos=[bad])
    assert Inspection.objects.count() == 1 and WorkDocument.objects.count() == 1 and not Schedule.objects.exists()


# ---- records ----------------------------------------------------------------------------------------

def test_closing_a_due_task_moves_its_next_due_date(road, people):
    schedule = _schedule(road, people["officer"], starts_on=date(2026, 1, 31))
    record_create(user=people["officer"], work=road, done_on=date(2026, 1, 31), cost=4_800_000, description="Phát quang",
                  schedule=schedule)
    schedule.refresh_from_db()
    assert (schedule.last_done, schedule.next_due) == (date(2026, 1, 31), date(2026, 4, 30))
    # an older job entered late does not move the task backwards
    record_create(user=people["officer"], work=road, done_on=date(2025, 11, 2), cost=1, description="Sổ cũ", schedule=schedule)
    schedule.refresh_from_db()
    assert schedule.last_done == date(2026, 1, 31)
    assert Record.objects.filter(schedule=schedule).count() == 2


def test_an_old_job_does_not_make_a_task_never_done_overdue(road, people):
    # A job of 2024 entered against a task first due in September 2026 made it due in April 2024: overdue at once.
    schedule = _schedule(road, people["officer"], starts_on=date(2026, 9, 1), interval_months=3)
    record_create(user=people["officer"], work=road, done_on=date(2024, 1, 10), cost=1, description="Sổ cũ", schedule=schedule)
    schedule.refresh_from_db()
    assert (schedule.last_done, schedule.next_due) == (None, date(2026, 9, 1))
    # a job done early, less than an interval before the first due date, counts: the next one is an interval on
    record_create(user=people["officer"], work=road, done_on=date(2026, 7, 10), cost=1, description="Làm sớm", schedule=schedule)
    schedule.refresh_from_db()
    assert (schedule.last_done, schedule.next_due) == (date(2026, 7, 10), date(2026, 10, 10))
    assert Record.objects.filter(schedule=schedule).count() == 2


def test_doing_a_one_off_repair_closes_it(road, people):
    repair = _schedule(road, people["officer"], task_kind=TaskKind.REPAIR, interval_months=None, starts_on=date(2026, 2, 1))
    record_create(user=people["officer"], work=road, done_on=date(2026, 2, 20), cost=9_000_000, description="Vá mặt đường",
                  schedule=repair)
    repair.refresh_from_db()
    assert repair.closed_on == date(2026, 2, 20) and repair.next_due is None
    with pytest.raises(ValidationError):
        record_create(user=people["officer"], work=road, done_on=date(2026, 2, 21), cost=1, description="Lần nữa",
                      schedule=repair)


@pytest.mark.parametrize(("change", "field"), [({"cost": -1}, "cost"), ({"done_on": "tomorrow"}, "done_on"),
                                               ({"description": " "}, "description")])
def test_bad_records_are_refused_and_nothing_moves(road, people, change, field):
    schedule = _schedule(road, people["officer"])
    fields = {"done_on": date(2026, 2, 1), "cost": 1_000_000, "description": "Phát quang", **change}
    if fields["done_on"] == "tomorrow":
        fields["done_on"] = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        record_create(user=people["officer"], work=road, schedule=schedule, **fields)
    assert field in caught.value.message_dict
    schedule.refresh_from_db()
    assert schedule.last_done is None and not Record.objects.exists()


def test_a_record_cannot_close_another_works_task(road, other_road, people):
    schedule = _schedule(other_road, people["planner"])
    with pytest.raises(ValidationError):
        record_create(user=people["planner"], work=road, done_on=date(2026, 2, 1), cost=1, description="X", schedule=schedule)
    assert not Record.objects.exists()


# ---- who may do it ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("who", "own", "other"),
    [("board", True, True), ("planner", True, True), ("officer", True, False), ("other_officer", False, True),
     ("auditor", False, False), ("public", False, False)],
)
def test_who_may_manage_schedules_inspections_and_records(road, other_road, people, who, own, other):
    user = AnonymousUser() if who == "public" else people[who]
    for work, allowed in ((road, own), (other_road, other)):
        writes = [
            lambda w=work: _schedule(w, user),
            lambda w=work: inspection_create(user=user, work=w, inspected_on=date(2026, 3, 2), inspector="X",
                                             condition=Condition.POOR),
            lambda w=work: record_create(user=user, work=w, done_on=date(2026, 3, 2), cost=1, description="X"),
        ]
        for write in writes:
            if allowed:
                write()
            else:
                with pytest.raises(PermissionDenied):
                    write()
        expected = 1 if allowed else 0
        assert Inspection.objects.filter(work=work).count() == expected
        assert Record.objects.filter(work=work).count() == expected
        assert Schedule.objects.filter(work=work, task_kind=TaskKind.ROUTINE).count() == expected


def test_a_commune_officer_cannot_change_or_close_another_communes_task(other_road, people):
    schedule = _schedule(other_road, people["planner"])
    with pytest.raises(PermissionDenied):
        schedule_update(user=people["officer"], schedule=schedule, estimated_cost=1)
    with pytest.raises(PermissionDenied):
        schedule_close(user=people["officer"], schedule=schedule, on=date(2026, 3, 1), note="x")
    schedule.refresh_from_db()
    assert schedule.estimated_cost == 5_000_000 and schedule.closed_on is None


def test_handing_a_work_over_gives_it_its_default_tasks(make_work, people):
    from infra.works.services import work_stage_change

    work = make_work(stage=Stage.COMPLETED, category=Category.WATER)
    work_stage_change(work=work, user=people["board"], to_stage=Stage.HANDED_OVER, occurred_on=date(2024, 1, 31))
    assert Schedule.objects.get(work=work, task_kind=TaskKind.ROUTINE).next_due == date(2024, 4, 30)


def test_the_stage_lifecycle_reaches_handover_and_the_hook_can_follow(make_work, people):
    # The stage service calls schedules_apply_templates at handover (hook added by the lead); here it is called the same way.
    work = make_work(stage=Stage.COMPLETED, category=Category.BRIDGE, investment=3_000_000_000)
    from infra.works.services import work_stage_change

    event = work_stage_change(work=work, user=people["board"], to_stage=Stage.HANDED_OVER, occurred_on=date(2024, 3, 31))
    schedules_apply_templates(work=work, user=people["board"], on=event.occurred_on)
    routine = Schedule.objects.get(work=work, task_kind=TaskKind.ROUTINE)
    assert routine.next_due == date(2024, 9, 30) and routine.interval_months == 6


def test_maintenance_dated_in_year_25_is_refused_and_nothing_is_written(people, road):
    with pytest.raises(ValidationError) as caught:
        record_create(user=people["planner"], work=road, done_on=date(25, 5, 1), cost=1_000_000, description="Vá ổ gà")
    assert "1900" in caught.value.message_dict["done_on"][0]
    assert not Record.objects.filter(work=road).exists()


def test_upkeep_texts_refuse_a_control_character_and_nothing_is_written(road, people):
    with pytest.raises(ValidationError) as caught:
        _schedule(road, people["planner"], description="Phát\x0bquang")
    assert "U+000B" in " ".join(caught.value.message_dict["description"])
    schedule = _schedule(road, people["planner"])
    with pytest.raises(ValidationError) as caught:
        record_create(user=people["officer"], work=road, schedule=schedule, done_on=date(2026, 2, 1), cost=1,
                      description="Đã\x1flàm")
    assert "description" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        schedule_close(user=people["planner"], schedule=schedule, on=date(2026, 2, 1), note="Không\x0bcần")
    assert "closing_note" in caught.value.message_dict
    schedule.refresh_from_db()
    assert (schedule.last_done, schedule.closed_on) == (None, None) and not Record.objects.exists()
    assert Schedule.objects.count() == 1


def test_a_task_described_before_the_text_rule_can_still_be_recorded_and_closed(road, people):
    # Recording a job re-saves its task: a description stored with a control character (before such text was
    # refused) must not stop the job being recorded, nor the task being closed; editing the task names it.
    schedule = _schedule(road, people["planner"])
    Schedule.objects.filter(pk=schedule.pk).update(description="Phát\x0bquang")
    record_create(user=people["officer"], work=road, schedule=schedule, done_on=date(2026, 2, 1), cost=1,
                  description="Phát quang")
    schedule.refresh_from_db()
    assert schedule.last_done == date(2026, 2, 1)
    with pytest.raises(ValidationError) as caught:
        schedule_update(user=people["planner"], schedule=schedule, estimated_cost=6_000_000)
    assert "description" in caught.value.message_dict
    schedule_close(user=people["planner"], schedule=schedule, on=date(2026, 2, 2), note="Bàn giao cho xã")
    schedule.refresh_from_db()
    assert schedule.closed_on == date(2026, 2, 2)


def test_a_work_of_unknown_investment_gets_tasks_not_estimated_rather_than_free(make_work, people):
    # With no investment figure the estimates were 0, which the plan took as "costs nothing" and funded first.
    work = make_work(code="ROAD-0", investment=0)
    created = schedules_apply_templates(work=work, user=people["planner"], on=date(2026, 1, 1))
    assert created and all(schedule.estimated_cost is None for schedule in created)
    inspection = inspection_create(user=people["planner"], work=work, inspected_on=date(2026, 3, 2), inspector="X",
                                   condition=Condition.FAILED)
    assert inspection.proposed_repairs.get().estimated_cost is None
    # an estimate given later makes the task plannable; 0 stays a real "costs nothing"
    schedule = created[0]
    schedule_update(user=people["planner"], schedule=schedule, estimated_cost=0)
    schedule.refresh_from_db()
    assert schedule.estimated_cost == 0


@pytest.mark.django_db(transaction=True)
def test_two_bad_inspections_at_once_propose_one_repair(road, people):
    # Two failed inspections of one work at once must propose one repair between them. The service locks the work's
    # row first; on PostgreSQL the stored features' trigger (infra.works.features) also makes the second wait for
    # the first, so this asserts the outcome both give, not which of them gives it.
    from django.db import connection

    from tests.infra.works.held import run_while_held

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one transaction at a time (IMMEDIATE): there is no race to lose")

    def inspect(day):
        return lambda: inspection_create(user=people["planner"], work=road, inspected_on=day, inspector="X",
                                         condition=Condition.FAILED)

    run_while_held(inspect(date(2026, 3, 2)), inspect(date(2026, 3, 3)))
    assert Inspection.objects.filter(work=road).count() == 2
    assert Schedule.objects.filter(work=road, task_kind=TaskKind.REPAIR, closed_on__isnull=True).count() == 1
