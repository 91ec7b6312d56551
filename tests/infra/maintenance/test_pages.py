"""The plan page, a work's maintenance page and its forms, as each role sees them; bad input gets a 400."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from infra.maintenance.models import Inspection, Record, ResponsibleKind, Schedule, TaskKind
from infra.maintenance.services import schedule_create

pytestmark = pytest.mark.django_db


def vi(message: str) -> str:
    """The message as a Vietnamese page shows it (the msgid until the catalogue has it)."""
    with translation.override("vi"):
        return gettext(message)


# ---- the plan page ----------------------------------------------------------------------------------

def test_the_public_is_asked_to_sign_in(client):
    response = client.get("/maintenance/?year=2027&budget=1")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(("who", "status"), [("planner", 200), ("board", 200), ("auditor", 200), ("officer", 403)])
def test_plan_page_by_role(client, people, register, who, status):
    client.force_login(people[who])
    assert client.get("/maintenance/?year=2027&budget=200000000").status_code == status


def test_the_plan_ranks_within_the_budget_and_lists_what_falls_outside(client, people, register):
    client.force_login(people["planner"])
    response = client.get("/maintenance/?year=2027&budget=200000000")
    assert response.status_code == 200
    plan = response.context["plan"]
    # All three are overdue. The Phong Thổ road is in poor condition: its routine task (4 rounds, 120 M, 220 weighted
    # households: 1.8 per million VND) ranks before its repair (150 M: 1.5 per million), which no longer fits in the 80 M left;
    # Dào San's road, never inspected, comes last and takes those 80 M.
    assert [(line.candidate.work_code, line.candidate.task_kind, line.funded) for line in plan.lines] == [
        ("ROAD-PT", TaskKind.ROUTINE, True), ("ROAD-PT", TaskKind.REPAIR, False), ("ROAD-DS", TaskKind.ROUTINE, True)]
    assert plan.total == 200_000_000 == plan.budget
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert "ROAD-PT" in page and "ROAD-DS" in page
    assert "150.000.000" in page
    assert vi("Outside the budget") in page


@pytest.mark.parametrize(
    ("query", "message"),
    [("year=2027&budget=-5", "The budget cannot be negative."),
     ("year=abc&budget=5", "The year must be a whole number from %(min)s to %(max)s."),
     ("year=1999&budget=5", "The year must be a whole number from %(min)s to %(max)s."),
     ("year=2027&budget=5tr", "The budget must be a whole number of VND, for example 500000000."),
     ("year=2027&budget=1" + "0" * 40, "The budget can be at most %(max)s VND.")],
)
def test_bad_plan_input_gets_a_400_with_the_reason(client, people, register, query, message):
    client.force_login(people["planner"])
    response = client.get(f"/maintenance/?{query}")
    assert response.status_code == 400
    values = {"min": 2000, "max": 2100} if "year" in message else {"max": "1.000.000.000.000.000"}
    assert (vi(message) % values).replace("'", "&#x27;") in response.content.decode()


def test_the_plans_workbook_link_asks_for_the_plan_shown(client, people, register):
    # The link was built from the query's text cut to 40 characters, so a long budget (or a padded year) gave a
    # workbook of another plan than the page's.
    client.force_login(people["planner"])
    response = client.get("/maintenance/?year=%202027&budget=" + "0" * 40 + "500000000")
    assert response.status_code == 200
    assert response.context["xlsx_url"].endswith("?year=2027&budget=500000000")


def test_an_unknown_commune_gets_a_400(client, people, register):
    client.force_login(people["planner"])
    assert client.get("/maintenance/?year=2027&budget=5&commune=99999").status_code == 400
    assert client.get("/maintenance/?year=2027&budget=5&commune=<script>").status_code == 400


def test_the_plan_for_one_commune(client, people, register):
    client.force_login(people["board"])
    plan = client.get("/maintenance/?year=2027&budget=1000000000&commune=03571").context["plan"]
    assert {line.candidate.work_code for line in plan.lines} == {"ROAD-DS"}


def test_without_a_budget_the_page_shows_what_is_due(client, people, register):
    client.force_login(people["auditor"])
    response = client.get("/maintenance/")
    assert response.status_code == 200
    assert {task.work_code for task in response.context["due"]} == {"ROAD-PT", "ROAD-DS"}
    assert "key=" in response.context["calendar_url"]


# ---- a work's maintenance page --------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "status", "forms"), [("officer", 200, True), ("planner", 200, True), ("board", 200, True),
                                                     ("auditor", 200, False), ("other_officer", 403, False)])
def test_work_page_by_role(client, people, register, who, status, forms):
    client.force_login(people[who])
    response = client.get(f"/maintenance/works/{register['road'].pk}/")
    assert response.status_code == status
    if status == 200:
        assert ('name="action"' in response.content.decode()) == forms


def test_an_auditor_cannot_post(client, people, register):
    client.force_login(people["auditor"])
    response = client.post(f"/maintenance/works/{register['road'].pk}/", {"action": "record", "record-done_on": "2026-03-01",
                                                                             "record-cost": "1", "record-description": "x"})
    assert response.status_code == 403
    assert not Record.objects.exists()


def test_an_inspection_in_the_future_is_refused_on_the_page(client, people, register):
    client.force_login(people["officer"])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(f"/maintenance/works/{register['road'].pk}/", {
        "action": "inspection", "inspection-inspected_on": tomorrow, "inspection-inspector": "Cán bộ xã",
        "inspection-condition": "failed"})
    assert response.status_code == 400
    assert vi("An inspection cannot be dated in the future.") in response.content.decode()
    assert Inspection.objects.count() == 1  # the fixture's


@pytest.mark.parametrize("interval", ["0", "-3", "1201", "32767"])
def test_an_interval_out_of_range_is_refused_on_the_page(client, people, register, interval):
    client.force_login(people["officer"])
    before = Schedule.objects.count()
    response = client.post(f"/maintenance/works/{register['road'].pk}/", {
        "action": "schedule", "schedule-task_kind": "periodic", "schedule-interval_months": interval,
        "schedule-starts_on": "2027-01-01", "schedule-responsible": "community", "schedule-estimated_cost": "0"})
    assert response.status_code == 400
    assert vi("The interval must be a whole number of months, from 1 to %(most)d.") % {"most": 1200} \
        in response.content.decode()
    assert Schedule.objects.count() == before


def test_a_poor_inspection_on_the_page_proposes_a_repair(client, people, make_work):
    work = make_work(code="CAU-1", category="bridge")
    client.force_login(people["officer"])
    response = client.post(f"/maintenance/works/{work.pk}/", {
        "action": "inspection", "inspection-inspected_on": "2026-05-04", "inspection-inspector": "Cán bộ xã",
        "inspection-condition": "poor", "inspection-notes": "Nứt mố cầu"})
    assert response.status_code == 302
    repair = Schedule.objects.get(work=work)
    assert repair.task_kind == TaskKind.REPAIR and repair.proposed_by.notes == "Nứt mố cầu"
    assert repair.history.get().history_user == people["officer"]


def test_recording_work_done_on_the_page_moves_the_task(client, people, register):
    schedule = Schedule.objects.get(work=register["road"], task_kind=TaskKind.ROUTINE)
    client.force_login(people["officer"])
    response = client.post(f"/maintenance/works/{register['road'].pk}/", {
        "action": "record", "record-schedule": schedule.pk, "record-done_on": "2026-02-28", "record-cost": "29000000",
        "record-description": "Phát quang, khơi rãnh"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.next_due == date(2026, 5, 28)
    assert schedule.records.get().cost == 29_000_000


def test_a_cost_written_with_thousands_dots_is_read_as_written(client, people, register):
    # Django's own field read "29.000.000" as refused and "29.000" as 29: the officer means twenty-nine thousand.
    client.force_login(people["officer"])
    url = f"/maintenance/works/{register['road'].pk}/"
    refused = client.post(url, {"action": "record", "record-done_on": "2026-02-28", "record-cost": "29.000,5",
                                "record-description": "Vá ổ gà"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert refused.status_code == 400 and "dấu chấm để tách hàng nghìn" in refused.content.decode()
    assert not register["road"].maintenance_records.exists()
    too_late = client.post(url, {"action": "record", "record-done_on": "2206-02-28", "record-cost": "29.000",
                                 "record-description": "Vá ổ gà"})
    assert too_late.status_code == 400 and not register["road"].maintenance_records.exists()
    response = client.post(url, {"action": "record", "record-done_on": "2026-02-28", "record-cost": "29.000",
                                 "record-description": "Vá ổ gà"})
    assert response.status_code == 302
    assert register["road"].maintenance_records.get().cost == 29_000


def test_changing_a_task_on_the_page(client, people, register):
    schedule = Schedule.objects.get(work=register["road"], task_kind=TaskKind.ROUTINE)
    client.force_login(people["planner"])
    page = client.get(f"/maintenance/works/{register['road'].pk}/?edit={schedule.pk}")
    assert page.context["forms"]["schedule"].initial["interval_months"] == 3
    response = client.post(f"/maintenance/works/{register['road'].pk}/?edit={schedule.pk}", {
        "action": "schedule", "schedule-schedule": schedule.pk, "schedule-task_kind": "routine", "schedule-interval_months": "6",
        "schedule-starts_on": "2025-01-31", "schedule-responsible": "community", "schedule-estimated_cost": "31000000",
        "schedule-description": "Phát quang"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.interval_months, schedule.responsible, schedule.estimated_cost) == (6, "community", 31_000_000)


def test_two_people_changing_one_task_cannot_undo_each_other(client, people, register):
    # Both opened the task's form; the first changed the cost, the second (on the form as it was) the interval.
    # The second save wrote back the old cost without a word.
    from django.test import Client

    schedule = Schedule.objects.get(work=register["road"], task_kind=TaskKind.ROUTINE)
    url = f"/maintenance/works/{register['road'].pk}/?edit={schedule.pk}"
    first, second = client, Client()
    first.force_login(people["planner"])
    second.force_login(people["board"])
    shown = [c.get(url).context["forms"]["schedule"].initial for c in (first, second)]

    def post(person, form, **changes):
        fields = {name: form[name] for name in ("task_kind", "interval_months", "starts_on", "responsible", "estimated_cost",
                                                 "description")}
        fields.update(changes)
        data = {"action": "schedule", "schedule-schedule": schedule.pk, "schedule-seen": form["seen"],
                **{f"schedule-{name}": "" if value is None else str(value) for name, value in fields.items()}}
        return person.post(url, data)

    assert post(first, shown[0], estimated_cost=5_000_000).status_code == 302
    response = post(second, shown[1], interval_months=6)
    assert response.status_code == 400
    assert vi("Someone else changed this task while you were editing it, and nothing was saved. Open it again to see it "
              "as it is now, then make your change.") in response.content.decode()
    schedule.refresh_from_db()
    assert (schedule.estimated_cost, schedule.interval_months) == (5_000_000, shown[0]["interval_months"])
    # opened again, the change goes through
    again = second.get(url).context["forms"]["schedule"].initial
    assert post(second, again, interval_months=6).status_code == 302
    schedule.refresh_from_db()
    assert (schedule.estimated_cost, schedule.interval_months) == (5_000_000, 6)


def test_an_unknown_action_is_a_400(client, people, register):
    client.force_login(people["planner"])
    assert client.post(f"/maintenance/works/{register['road'].pk}/", {"action": "delete"}).status_code == 400


def test_tasks_on_works_not_in_use_are_listed_apart_not_planned(client, people, register, make_work):
    # A repair on a work still under construction was funded first, ahead of works people use.
    from infra.works.choices import Stage

    building = make_work(code="ROAD-XD", stage=Stage.UNDER_CONSTRUCTION)
    schedule_create(user=people["planner"], work=building, task_kind=TaskKind.REPAIR, interval_months=None,
                    starts_on=date(2025, 6, 1), responsible=ResponsibleKind.CONTRACTOR, estimated_cost=10_000_000)
    client.force_login(people["planner"])
    response = client.get("/maintenance/?year=2027&budget=200000000")
    plan = response.context["plan"]
    assert "ROAD-XD" not in {line.candidate.work_code for line in plan.lines}
    assert [(task.work_code, task.stage) for task in plan.left_out] == [("ROAD-XD", Stage.UNDER_CONSTRUCTION)]
    page = response.content.decode()
    assert vi("Not planned: the work is not in use") in page and "ROAD-XD" in page
    book = load_workbook(io.BytesIO(client.get("/maintenance/plan.xlsx?year=2027&budget=200000000").content), read_only=True)
    rows = list(book[vi("Not planned")].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == ["ROAD-XD"]


def test_a_task_without_an_estimate_shows_no_cost_and_is_counted_apart(client, people, register):
    schedule_create(user=people["planner"], work=register["road"], task_kind=TaskKind.PERIODIC, interval_months=12,
                    starts_on=date(2025, 6, 1), responsible=ResponsibleKind.CONTRACTOR, estimated_cost=None)
    client.force_login(people["planner"])
    response = client.get("/maintenance/?year=2027&budget=200000000")
    line = response.context["plan"].lines[-1]
    assert not line.estimated and response.context["plan"].unestimated == 1
    page = response.content.decode()
    assert vi("No cost estimate yet: give the task an estimate to plan it") in page
    book = load_workbook(io.BytesIO(client.get("/maintenance/plan.xlsx?year=2027&budget=200000000").content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert rows[-1][11] is None  # no cost in the year, rather than 0
    summary = {row[0]: row[1] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert summary[vi("Tasks without a cost estimate (not planned)")] == 1
