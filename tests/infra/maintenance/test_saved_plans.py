"""A saved plan keeps its numbers whatever changes later, and says what the plan made today would change."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from infra.maintenance.models import SavedPlan, SavedPlanLine, Schedule, TaskKind
from infra.maintenance.services import record_create, schedule_update
from tests.infra.maintenance.test_pages import vi

pytestmark = pytest.mark.django_db

QUERY = {"year": "2027", "budget": "200000000"}


def _lines(plan):
    return [(line.rank, line.candidate.work_code, line.candidate.task_kind, line.funded, line.cost) for line in plan.lines]


def _workbook(response) -> dict:
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    summary = {row[0]: row[1] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    return {"rows": [(row[0], row[2], row[11]) for row in rows], "summary": summary}


def test_a_saved_plan_keeps_its_numbers_and_says_what_changed_since(client, people, register):
    client.force_login(people["planner"])
    live = client.get("/maintenance/", QUERY).context["plan"]
    response = client.post("/maintenance/plans/", {**QUERY, "note": "Trình UBND huyện", "total": str(live.total)})
    saved = SavedPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/maintenance/plans/{saved.pk}/"
    assert (saved.year, saved.budget, saved.total, saved.note) == (2027, 200_000_000, live.total, "Trình UBND huyện")
    assert SavedPlanLine.objects.filter(plan=saved).count() == len(live.lines)
    page = client.get(f"/maintenance/plans/{saved.pk}/")
    assert _lines(page.context["plan"]) == _lines(live) and page.context["changes"] == []
    before = _workbook(client.get(f"/maintenance/plans/{saved.pk}.xlsx"))

    # Later: the Dào San road's routine task costs more, and a job on the Phong Thổ road is recorded.
    ds = Schedule.objects.get(work=register["other_road"], task_kind=TaskKind.ROUTINE)
    schedule_update(user=people["planner"], schedule=ds, estimated_cost=25_000_000)
    pt = Schedule.objects.get(work=register["road"], task_kind=TaskKind.ROUTINE)
    record_create(user=people["officer"], work=register["road"], schedule=pt, done_on=date(2026, 11, 30), cost=1,
                  description="Phát quang")
    now = client.get("/maintenance/", QUERY).context["plan"]
    assert _lines(now) != _lines(live)

    page = client.get(f"/maintenance/plans/{saved.pk}/")
    assert _lines(page.context["plan"]) == _lines(live)  # the saved plan, unchanged
    changed = {(change.work_code, change.task_kind) for change in page.context["changes"]}
    assert ("ROAD-DS", TaskKind.ROUTINE) in changed
    assert vi("cost changed") in page.content.decode()
    after = _workbook(client.get(f"/maintenance/plans/{saved.pk}.xlsx"))
    assert after == before
    assert after["summary"][vi("Planned (VND)")] == live.total
    assert "Trình UBND huyện" in after["summary"][vi("Saved plan")]
    listing = client.get("/maintenance/plans/").content.decode()
    assert f"/maintenance/plans/{saved.pk}/" in listing and "Trình UBND huyện" in listing


def test_saving_a_plan_that_changed_meanwhile_says_so(client, people, register):
    client.force_login(people["planner"])
    response = client.post("/maintenance/plans/", {**QUERY, "total": "1"}, follow=True)
    assert response.status_code == 200 and SavedPlan.objects.count() == 1
    assert vi("The plan changed after you looked at it: it was saved as it is now. Check it below.") \
        in response.content.decode()


@pytest.mark.parametrize(("who", "save", "read"), [("planner", 302, 200), ("board", 403, 200), ("auditor", 403, 200),
                                                    ("officer", 403, 403)])
def test_who_saves_and_reads_saved_plans(client, people, register, who, save, read):
    client.force_login(people["planner"])
    client.post("/maintenance/plans/", QUERY)
    saved = SavedPlan.objects.get()
    client.force_login(people[who])
    assert client.post("/maintenance/plans/", QUERY).status_code == save
    assert SavedPlan.objects.count() == (2 if save == 302 else 1)
    assert client.get(f"/maintenance/plans/{saved.pk}/").status_code == read
    assert client.get("/maintenance/plans/").status_code == read


@pytest.mark.parametrize("data", [{"year": "2027", "budget": "-1"}, {"year": "x", "budget": "1"},
                                  {**QUERY, "note": "Trình\x0bhuyện"}, {**QUERY, "commune": "99999"}])
def test_bad_input_saves_nothing(client, people, register, data):
    client.force_login(people["planner"])
    response = client.post("/maintenance/plans/", data)
    assert response.status_code == 400
    assert not SavedPlan.objects.exists() and not SavedPlanLine.objects.exists()


def test_an_unknown_saved_plan_is_a_404(client, people):
    client.force_login(people["planner"])
    assert client.get("/maintenance/plans/999/").status_code == 404
    assert client.get("/maintenance/plans/999.xlsx").status_code == 404


def test_a_saved_plan_of_the_current_year_reports_no_change_when_nothing_changed(client, people, register):
    # Compared with the plan made today, every recurring line of a current year's plan "changed cost": the year had
    # fewer rounds left. The comparison now covers the same period.
    from django.utils import timezone

    from infra.maintenance.saved import plan_save

    year = timezone.localdate().year
    saved = plan_save(user=people["planner"], year=year, budget=200_000_000, today=date(year, 1, 2))
    assert SavedPlanLine.objects.filter(plan=saved).exists()
    client.force_login(people["planner"])
    assert client.get(f"/maintenance/plans/{saved.pk}/").context["changes"] == []


def test_a_saved_plan_keeps_the_tasks_it_left_out(client, people, register, make_work):
    # The saved plan lost its "not planned" list, so its workbook differed from the one downloaded when saving.
    from infra.maintenance.services import schedule_create
    from infra.works.choices import Stage

    building = make_work(code="ROAD-XD", stage=Stage.UNDER_CONSTRUCTION)
    schedule_create(user=people["planner"], work=building, task_kind=TaskKind.REPAIR, interval_months=None,
                    starts_on=date(2025, 6, 1), responsible="contractor", estimated_cost=10_000_000)
    client.force_login(people["planner"])
    live = client.get("/maintenance/plan.xlsx", QUERY)
    client.post("/maintenance/plans/", QUERY)
    saved = SavedPlan.objects.get()
    page = client.get(f"/maintenance/plans/{saved.pk}/")
    assert [task.work_code for task in page.context["plan"].left_out] == ["ROAD-XD"]
    assert "ROAD-XD" in page.content.decode()
    kept = load_workbook(io.BytesIO(client.get(f"/maintenance/plans/{saved.pk}.xlsx").content), read_only=True)
    made = load_workbook(io.BytesIO(live.content), read_only=True)
    assert kept.sheetnames == made.sheetnames
    assert list(kept[vi("Not planned")].values) == list(made[vi("Not planned")].values)


def test_a_saved_plan_is_in_the_audit_chain_row_by_row_and_cannot_be_changed(client, people, register, make_work):
    # A saved plan never changes: its rows are append-only as history is, and each is chained when it is saved, so
    # a row changed behind the application's back is named by verify_audit.
    from django.db import DatabaseError, connection, transaction
    from django.utils import timezone

    from infra.audit.chain import snapshot, verify_chain
    from infra.audit.models import AuditEntry
    from infra.maintenance.models import SavedPlanLeftOut
    from infra.maintenance.saved import plan_save
    from infra.maintenance.services import schedule_create
    from infra.works.choices import Stage
    from tests.infra.audit import without_guard

    building = make_work(code="ROAD-XD", stage=Stage.UNDER_CONSTRUCTION)
    schedule_create(user=people["planner"], work=building, task_kind=TaskKind.REPAIR, interval_months=None,
                    starts_on=date(2025, 6, 1), responsible="contractor", estimated_cost=10_000_000)
    before = AuditEntry.objects.count()
    year = timezone.localdate().year + 1
    saved = plan_save(user=people["planner"], year=year, budget=200_000_000, note="Họp ngày 5/12")
    rows = [saved, *SavedPlanLine.objects.filter(plan=saved).order_by("pk"),
            *SavedPlanLeftOut.objects.filter(plan=saved).order_by("pk")]
    assert len(rows) >= 3  # the plan, its lines, the task left out
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert [(e.model_label, e.object_pk) for e in entries] == [(r._meta.label, str(r.pk)) for r in rows]
    assert all(e.username == "ke-hoach" and e.action == "+" and e.before is None for e in entries)
    assert [e.after for e in entries] == [snapshot(type(r).objects.get(pk=r.pk)) for r in rows]
    assert entries[0].after["note"] == "Họp ngày 5/12" and entries[0].after["total"] == saved.total
    assert verify_chain() == (AuditEntry.objects.count(), None)

    with pytest.raises(DatabaseError), transaction.atomic():
        SavedPlanLine.objects.filter(plan=saved).update(cost=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        SavedPlan.objects.filter(pk=saved.pk).update(total=0)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            SavedPlanLeftOut.objects.filter(plan=saved).delete()
    assert SavedPlan.objects.get(pk=saved.pk).total == saved.total

    # someone with the database's owner role switches the guard off and lowers a line's cost
    line = rows[1]
    table = SavedPlanLine._meta.db_table
    without_guard(table, f'UPDATE "{table}" SET cost = 1 WHERE id = %s', [line.pk])
    checked, broken = verify_chain()
    assert (broken.model_label, broken.object_pk, broken.reason) == ("maintenance.SavedPlanLine", str(line.pk),
                                                                      "history_row_altered")


def test_a_row_added_to_a_saved_plan_behind_the_application_s_back_is_named(people, register, make_work):
    # The guards refuse UPDATE and DELETE on a saved plan's tables, not INSERT: a line slipped into a saved plan
    # would show on its page and in its workbook as the plan's own. Every row must be in the chain.
    from django.core.management import CommandError, call_command
    from django.utils import timezone, translation

    from infra.audit.chain import verify_chain
    from infra.audit.models import AuditEntry
    from infra.maintenance.saved import plan_save

    saved = plan_save(user=people["planner"], year=timezone.localdate().year + 1, budget=200_000_000)
    line = SavedPlanLine.objects.filter(plan=saved).order_by("-rank").first()
    line.pk, line.rank, line.cost, line.funded = None, line.rank + 1, 1, True
    SavedPlanLine.objects.bulk_create([line])  # an INSERT past plan_save, as a script or a console could make it
    forged = SavedPlanLine.objects.filter(plan=saved).order_by("-pk").first()
    checked, broken = verify_chain()
    assert checked == AuditEntry.objects.count()
    assert (broken.model_label, broken.object_pk, broken.reason) == ("maintenance.SavedPlanLine", str(forged.pk),
                                                                      "kept_row_unchained")
    with translation.override("vi"), pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    assert str(caught.value).startswith(f"Dòng {forged.pk} của maintenance.SavedPlanLine không có trong bản ghi kiểm toán")


def test_saved_plans_stored_before_they_were_chained_get_their_entries_from_the_migration(people, register):
    # Plans saved before this change have no entries: audit migration 0002 gives them theirs, as by their maker.
    import importlib

    from django.apps import apps
    from django.db import connection
    from django.utils import timezone

    from infra.audit.chain import verify_chain
    from infra.audit.models import AuditEntry
    from infra.maintenance.models import SavedPlanLeftOut
    from infra.maintenance.saved import plan_save
    from tests.infra.audit import without_guard

    saved = plan_save(user=people["planner"], year=timezone.localdate().year + 1, budget=200_000_000)
    rows = 1 + SavedPlanLine.objects.filter(plan=saved).count() + SavedPlanLeftOut.objects.filter(plan=saved).count()
    head = AuditEntry.objects.order_by("-seq").first().seq
    table = AuditEntry._meta.db_table
    without_guard(table, f'DELETE FROM "{table}" WHERE seq > %s', [head - rows])  # as before the change
    assert verify_chain()[1].reason == "kept_row_unchained"

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    importlib.import_module("infra.audit.migrations.0002_chain_saved_plans").chain_saved_plans(apps, editor)
    entries = list(AuditEntry.objects.filter(seq__gt=head - rows).order_by("seq"))
    assert len(entries) == rows and entries[0].model_label == "maintenance.SavedPlan"
    assert {e.username for e in entries} == {"ke-hoach"}
    assert verify_chain() == (AuditEntry.objects.count(), None)
