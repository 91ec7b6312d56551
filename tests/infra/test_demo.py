"""manage.py load_demo: flagged, complete, consistent, idempotent and deterministic demo data."""

from __future__ import annotations

import stat
import time
from dataclasses import dataclass
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.utils import translation

from gis.models import AdminUnitSuccession, BaseRoad, Village
from infra.accounts.models import Role
from infra.demo import LAST_DAY
from infra.demo.area import demo_area
from infra.demo.drafts import work_drafts
from infra.demo.geography import road_specs, village_specs
from infra.demo.lifecycle import budget, work_specs
from infra.demo.loader import topic_rng
from infra.finance.models import Allocation, CapitalKind, CapitalPlan, Disbursement
from infra.maintenance.models import Inspection, Record, Schedule, TaskKind
from infra.works.choices import Category, Stage
from infra.works.models import StageEvent, Work

pytestmark = pytest.mark.django_db

FORMER_VALID_TO = date(2025, 6, 30)
DEMO_ROLES = {"board": Role.BOARD, "commune_phongtho": Role.COMMUNE_OFFICER, "planner": Role.PLANNER, "auditor": Role.AUDITOR}


@dataclass
class Loaded:
    first_output: str
    second_output: str
    second_seconds: float
    counts_first: dict[str, int]
    counts_second: dict[str, int]
    history_first: dict[str, int]
    history_second: dict[str, int]
    logins_file: Path


def _models(*, history: bool) -> list:
    labels = {"geo", "accounts", "works", "finance", "maintenance", "auth"}
    return [m for m in apps.get_models() if m._meta.app_label in labels and m.__name__.startswith("Historical") == history]


def _counts(*, history: bool) -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in _models(history=history)}


def _load(logins_file: Path) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("load_demo", logins_file=logins_file, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, reference_db, tmp_path_factory):
    """Load the demo once for this module, run it a second time, and roll both back at the end.

    Loading takes seconds, so the tests share one load; each test still runs in its own savepoint.
    """
    logins_file = tmp_path_factory.mktemp("demo") / "demo-logins.txt"
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch, transaction.atomic():
        patch.setenv("ALLOW_DEMO_USERS", "1")
        first = _load(logins_file)
        counts_first, history_first = _counts(history=False), _counts(history=True)
        started = time.perf_counter()
        second = _load(logins_file)
        seconds = time.perf_counter() - started
        yield Loaded(
            first_output=first,
            second_output=second,
            second_seconds=seconds,
            counts_first=counts_first,
            counts_second=_counts(history=False),
            history_first=history_first,
            history_second=_counts(history=True),
            logins_file=logins_file,
        )
        # Other test modules expect the reference data only.
        transaction.set_rollback(True)


def test_second_run_changes_nothing_and_is_fast(demo, reference):
    assert demo.counts_second == demo.counts_first
    assert demo.history_second == demo.history_first
    assert "already loaded" in demo.second_output
    assert "Demo logins: see" in demo.second_output
    assert demo.second_seconds < 2.0


def test_every_generated_row_is_flagged_as_demo(demo, reference):
    works = Work.objects.filter(code__startswith="DEMO-W-")
    assert works.exists() and not works.filter(is_demo=False).exists()
    assert not Village.objects.filter(code__startswith="DEMO-", is_demo=False).exists()
    assert Village.objects.filter(is_demo=True).count() >= 30
    assert not BaseRoad.objects.filter(code__startswith="DEMO-", is_demo=False).exists()
    assert BaseRoad.objects.filter(is_demo=True).exists()
    for model in (Allocation, Schedule, Record, Inspection):
        rows = model.objects.filter(work__in=works)
        assert rows.exists() and not rows.filter(is_demo=False).exists(), model
    payments = Disbursement.objects.filter(allocation__work__in=works)
    assert payments.exists() and not payments.filter(is_demo=False).exists()


def test_works_cover_every_category_and_stage(demo, reference):
    works = Work.objects.filter(is_demo=True)
    assert works.count() >= 150
    assert set(works.values_list("category", flat=True)) == set(Category.values)
    assert set(works.values_list("stage", flat=True)) == set(Stage.values)


def test_investment_adds_up_to_the_2022_investment_plan(demo, reference):
    plan = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT, decision__number="747/QĐ-UBND")
    assert Work.objects.filter(is_demo=True).aggregate(total=Sum("total_investment"))["total"] == plan.amount
    assert Allocation.objects.filter(capital_plan=plan, is_demo=True).aggregate(total=Sum("amount"))["total"] <= plan.amount
    assert not Work.objects.filter(is_demo=True, special_mechanism=True, total_investment__gt=5_000_000_000).exists()


def test_villages_lie_inside_their_commune(demo, reference):
    for village in Village.objects.filter(is_demo=True).select_related("commune"):
        assert village.commune.valid_to is None
        assert village.commune.boundary.contains(village.location), village.code
        assert village.poor_households <= village.households


def test_payments_never_exceed_their_allocation(demo, reference):
    allocations = Allocation.objects.filter(is_demo=True).prefetch_related("disbursements")
    for allocation in allocations:
        assert sum(d.signed_amount for d in allocation.disbursements.all()) <= allocation.amount, allocation.work.code
    reversal = Disbursement.objects.filter(is_demo=True, reverses__isnull=False).select_related("reverses").get()
    assert reversal.amount == reversal.reverses.amount
    assert reversal.allocation_id == reversal.reverses.allocation_id


def test_payments_start_only_after_a_contractor_was_selected(demo, reference):
    contracted_on = dict(
        StageEvent.objects.filter(work__is_demo=True, to_stage=Stage.CONTRACTED).values_list("work_id", "occurred_on")
    )
    for work_id, paid_on in Disbursement.objects.filter(is_demo=True).values_list("allocation__work_id", "paid_on"):
        assert work_id in contracted_on and paid_on >= contracted_on[work_id]


def test_works_sit_in_a_current_commune_and_were_approved_under_its_predecessor(demo, reference):
    successions = set(AdminUnitSuccession.objects.values_list("predecessor_id", "successor_id"))
    for work in Work.objects.filter(is_demo=True).select_related("current_commune", "approved_commune"):
        assert work.current_commune is not None and work.current_commune.valid_to is None, work.code
        assert work.approved_commune.valid_to == FORMER_VALID_TO, work.code
        assert (work.approved_commune_id, work.current_commune_id) in successions, work.code


def test_stage_history_and_progress_agree_with_the_stage(demo, reference):
    before_construction = {Stage.PROPOSED, Stage.APPROVED, Stage.DESIGNED, Stage.CONTRACTED}
    finished = {Stage.COMPLETED, Stage.HANDED_OVER, Stage.IN_OPERATION}
    for work in Work.objects.filter(is_demo=True).prefetch_related("stage_events"):
        events = sorted(work.stage_events.all(), key=lambda e: (e.occurred_on, e.id))
        assert events[-1].to_stage == work.stage, work.code
        assert all(e.occurred_on <= LAST_DAY for e in events)
        assert work.planned_start <= work.planned_end
        if work.stage in before_construction:
            assert work.progress == 0, work.code
        elif work.stage == Stage.UNDER_CONSTRUCTION:
            assert 10 <= work.progress <= 95, work.code
        elif work.stage in finished:
            assert work.progress == 100, work.code
        if work.stage in {Stage.SUSPENDED, Stage.CANCELLED}:
            assert events[-1].note, work.code


def test_some_villages_are_left_without_a_road(demo, reference):
    roads = [road.geometry for road in BaseRoad.objects.filter(is_demo=True)]
    unjoined = [v for v in Village.objects.filter(is_demo=True) if not any(road.distance(v.location) < 1e-6 for road in roads)]
    assert unjoined


def test_finished_works_have_maintenance_and_some_is_overdue(demo, reference):
    schedules = Schedule.objects.filter(is_demo=True).select_related("work")
    assert {s.work.stage for s in schedules} <= {Stage.HANDED_OVER, Stage.IN_OPERATION}
    assert {(s.task_kind, s.interval_months) for s in schedules if s.work.category == Category.ROAD} == {
        (TaskKind.ROUTINE, 3),
        (TaskKind.PERIODIC, 24),
    }
    assert any(s.next_due < LAST_DAY for s in schedules)


def test_one_demo_user_per_role_with_a_password_file(demo, reference):
    users = get_user_model().objects.filter(username__in=DEMO_ROLES).select_related("profile")
    assert {u.username: u.profile.role for u in users} == DEMO_ROLES
    assert all(u.is_staff and not u.is_superuser and u.profile.is_demo for u in users)
    lines = demo.logins_file.read_text(encoding="utf-8").splitlines()
    assert sorted(line.split(" / ")[0] for line in lines) == sorted(DEMO_ROLES)
    assert stat.S_IMODE(demo.logins_file.stat().st_mode) == 0o600
    board_password = next(line.split(" / ")[1] for line in lines if line.startswith("board /"))
    assert users.get(username="board").check_password(board_password)
    officer = users.get(username="commune_phongtho")
    assert {(c.code, c.valid_to is None) for c in officer.profile.communes.all()} >= {("03549", True), ("03549", False)}


def test_demo_users_are_refused_without_debug_or_permission(demo, reference, monkeypatch, settings, tmp_path):
    get_user_model().objects.filter(username__in=DEMO_ROLES).delete()
    settings.DEBUG = False
    monkeypatch.delenv("ALLOW_DEMO_USERS", raising=False)
    output = _load(tmp_path / "logins.txt")
    assert "not created" in output
    assert not get_user_model().objects.filter(username__in=DEMO_ROLES).exists()
    assert not (tmp_path / "logins.txt").exists()
    monkeypatch.setenv("ALLOW_DEMO_USERS", "1")
    _load(tmp_path / "logins.txt")
    assert get_user_model().objects.filter(username__in=DEMO_ROLES).count() == len(DEMO_ROLES)


def test_generation_is_a_pure_function_of_the_seed(demo, reference):
    total = CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT, decision__number="747/QĐ-UBND").amount

    def generate():
        area = demo_area()
        villages = village_specs(rng=topic_rng("villages"), area=area)
        roads, gaps = road_specs(rng=topic_rng("roads"), area=area, villages=villages)
        drafts = work_drafts(rng=topic_rng("works"), area=area, villages=villages, roads=roads, gaps=gaps)
        specs = work_specs(rng=topic_rng("lifecycle"), drafts=drafts, villages=villages, investment_total=total)
        return villages, roads, [(s.code, s.draft.name, s.draft.geometry.wkt, s.total_investment, s.steps) for s in specs]

    first, second = generate(), generate()
    assert first == second
    # And the database holds exactly what the generator makes.
    villages, _roads, works = first
    stored = {v.code: v for v in Village.objects.filter(is_demo=True)}
    assert sorted(stored) == sorted(v.code for v in villages)
    for spec in villages:
        assert stored[spec.code].name == spec.name.full
    stored_works = {w.code: w for w in Work.objects.filter(is_demo=True)}
    for code, name, wkt, amount, _steps in works:
        assert (stored_works[code].name, stored_works[code].total_investment) == (name, amount)
        assert stored_works[code].geometry.wkt == wkt


def test_budget_fits_the_total_exactly():
    amounts = budget(raw=[300, 5000, 1200, 777, 9999], total=10_000_000_000)
    assert sum(amounts) == 10_000_000_000
    assert all(a > 0 and a % 1_000_000 == 0 for a in amounts)


def test_demo_rows_are_labelled_wherever_they_are_shown(demo, reference, client):
    # Pages that listed demo rows without a label: the due list, connectivity, a work's history, OGC's HTML.
    from django.utils import translation

    from infra.accounts.models import Role
    from infra.works.models import Work
    from tests.factories import user_with_role

    client.force_login(user_with_role(Role.BOARD, username="xem-mau"))
    with translation.override("vi"):
        banner = str(translation.gettext("Demo data: villages, local roads, works and money on this map are synthetic "
                                         "examples, not real records."))
    due = client.get("/maintenance/")
    assert due.status_code == 200 and due.context["due"], "the demo has upkeep due"
    page = due.content.decode()
    assert page.count('class="badge-demo"') >= len([t for t in due.context["due"] if t.is_demo]) > 0 and banner in page
    work = Work.objects.filter(is_demo=True).order_by("pk").first()
    assert 'class="badge-demo"' in client.get(f"/works/{work.pk}/history/").content.decode()
    assert 'class="badge-demo"' in client.get("/ogc/collections/works/items?f=html&limit=5").content.decode()
    assert 'class="badge-demo"' in client.get(f"/ogc/collections/works/items/{work.pk}?f=html").content.decode()
    call_command("connectivity", verbosity=0)
    summary = client.get("/api/connectivity/").json()
    assert summary["villages"] and all(village["is_demo"] is True for village in summary["villages"])
    assert all(proposal["work"]["is_demo"] is True for proposal in summary["proposals"])
    assert 'class="badge-demo"' in client.get("/connectivity/").content.decode()
