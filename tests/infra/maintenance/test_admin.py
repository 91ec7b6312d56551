"""The admin writes maintenance through the services: the same refusals, repairs and scope as the pages."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from infra.maintenance.models import Inspection, Record, Schedule, TaskKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(people):
    """Give everyone every model permission, so that only the access policy and the services can refuse."""
    for user in people.values():
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.all())
    return people


def test_an_inspection_added_in_the_admin_proposes_a_repair(client, staff, road):
    client.force_login(staff["officer"])
    response = client.post("/admin/maintenance/inspection/add/", {
        "work": road.pk, "inspected_on": "2026-03-02", "inspector": "Cán bộ xã", "condition": "failed", "notes": "Sập cống"})
    assert response.status_code == 302, response.content.decode()[:3000]
    repair = Schedule.objects.get(work=road)
    assert repair.task_kind == TaskKind.REPAIR and repair.proposed_by.notes == "Sập cống"


def test_a_future_inspection_in_the_admin_is_refused(client, staff, road):
    client.force_login(staff["planner"])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post("/admin/maintenance/inspection/add/", {
        "work": road.pk, "inspected_on": tomorrow, "inspector": "X", "condition": "poor"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Inspection.objects.exists() and not Schedule.objects.exists()


@pytest.mark.parametrize("interval", ["0", "-2", ""])
def test_a_routine_task_without_a_positive_interval_is_refused_in_the_admin(client, staff, road, interval):
    client.force_login(staff["planner"])
    response = client.post("/admin/maintenance/schedule/add/", {
        "work": road.pk, "task_kind": "routine", "interval_months": interval, "starts_on": "2026-01-01",
        "responsible": "community", "estimated_cost": "0"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not Schedule.objects.exists()


def test_a_record_added_in_the_admin_moves_the_task(client, staff, road):
    client.force_login(staff["planner"])
    client.post("/admin/maintenance/schedule/add/", {
        "work": road.pk, "task_kind": "routine", "interval_months": "3", "starts_on": "2025-11-30",
        "responsible": "community", "estimated_cost": "1000000"})
    schedule = Schedule.objects.get()
    response = client.post("/admin/maintenance/record/add/", {
        "work": road.pk, "schedule": schedule.pk, "done_on": "2025-11-30", "cost": "900000", "description": "Phát quang"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.next_due == date(2026, 2, 28)


def test_an_officer_cannot_add_for_another_commune_in_the_admin(client, staff, other_road):
    client.force_login(staff["officer"])
    response = client.post("/admin/maintenance/record/add/", {
        "work": other_road.pk, "done_on": "2026-01-05", "cost": "1", "description": "x"})
    assert response.status_code == 200
    assert not Record.objects.exists()


def test_inspections_and_records_cannot_be_edited_in_the_admin(client, staff, road):
    client.force_login(staff["board"])
    client.post("/admin/maintenance/inspection/add/", {
        "work": road.pk, "inspected_on": "2026-03-02", "inspector": "X", "condition": "good"})
    inspection = Inspection.objects.get()
    client.post(f"/admin/maintenance/inspection/{inspection.pk}/change/", {
        "work": road.pk, "inspected_on": "2026-03-02", "inspector": "Y", "condition": "failed"})
    inspection.refresh_from_db()
    assert (inspection.inspector, inspection.condition) == ("X", "good")


def test_a_stale_admin_form_does_not_undo_another_change(client, staff, road):
    from infra.maintenance.services import schedule_create, schedule_state, schedule_update

    schedule = schedule_create(user=staff["planner"], work=road, task_kind="routine", interval_months=3,
                               starts_on=date(2026, 1, 1), responsible="community", estimated_cost=1_000_000)
    client.force_login(staff["planner"])
    shown = client.get(f"/admin/maintenance/schedule/{schedule.pk}/change/")
    seen = shown.context["adminform"].form["seen"].value()
    assert seen == schedule_state(schedule)
    schedule_update(user=staff["board"], schedule=schedule, estimated_cost=5_000_000)  # someone else, meanwhile
    response = client.post(f"/admin/maintenance/schedule/{schedule.pk}/change/", {
        "task_kind": "routine", "interval_months": "6", "starts_on": "2026-01-01", "responsible": "community",
        "estimated_cost": "1000000", "description": "", "seen": seen})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    schedule.refresh_from_db()
    assert (schedule.estimated_cost, schedule.interval_months) == (5_000_000, 3)
