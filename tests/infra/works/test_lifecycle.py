"""Every allowed and every refused stage transition (DOMAIN.md §3)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError

from infra.works.choices import Category, Stage
from infra.works.models import StageEvent, Work
from infra.works.services import work_create, work_stage_change
from tests.factories import PHONG_THO_POINT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

MAIN = ["proposed", "approved", "designed", "contracted", "under_construction", "completed", "handed_over", "in_operation"]
BEFORE_COMPLETION = MAIN[:5]

# The rule, written out independently of the code: one step along the main line; suspend or
# cancel until completion; a suspended work resumes where it stopped or is cancelled; cancelled is final.
ALLOWED = {(a, b) for a, b in zip(MAIN, MAIN[1:])}
ALLOWED |= {(a, exit_) for a in BEFORE_COMPLETION for exit_ in ("suspended", "cancelled")}
ALLOWED |= {("suspended", "contracted"), ("suspended", "cancelled")}  # the suspended work below stopped at "contracted"

ALL = [s.value for s in Stage]


def _work_at(stage: str) -> Work:
    work = work_create(user=None, code=f"LC-{stage}", name="Kênh mương", category=Category.IRRIGATION,
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022, stage_date=date(2022, 1, 3))
    day = date(2022, 2, 1)
    path = MAIN[1: MAIN.index(stage) + 1] if stage in MAIN else (["approved", "designed", "contracted", stage])
    for step in path:
        work_stage_change(work=work, user=None, to_stage=step, occurred_on=day, note="lý do" if step in ("suspended", "cancelled") else "")
        day += timedelta(days=30)
    return Work.objects.get(pk=work.pk)


@pytest.mark.parametrize("to_stage", ALL)
@pytest.mark.parametrize("from_stage", ALL)
def test_transition(reference, from_stage, to_stage):
    work = _work_at(from_stage)
    events_before = StageEvent.objects.filter(work=work).count()
    note = "Theo văn bản số 12" if to_stage in ("suspended", "cancelled") else ""
    if (from_stage, to_stage) in ALLOWED:
        work_stage_change(work=work, user=None, to_stage=to_stage, occurred_on=date(2026, 1, 5), note=note, decision_number="9/QĐ")
        work.refresh_from_db()
        assert work.stage == to_stage
        assert StageEvent.objects.filter(work=work).count() == events_before + 1
        if to_stage == "completed":
            assert work.progress == 100 and work.actual_end == date(2026, 1, 5)
    else:
        with pytest.raises(ValidationError):
            work_stage_change(work=work, user=None, to_stage=to_stage, occurred_on=date(2026, 1, 5), note=note)
        work.refresh_from_db()
        assert work.stage == from_stage
        assert StageEvent.objects.filter(work=work).count() == events_before


@pytest.mark.parametrize("exit_stage", ["suspended", "cancelled"])
def test_suspending_or_cancelling_needs_a_reason(reference, exit_stage):
    work = _work_at("contracted")
    with pytest.raises(ValidationError) as caught:
        work_stage_change(work=work, user=None, to_stage=exit_stage, occurred_on=date(2026, 1, 5), note="  ")
    assert "reason" in " ".join(caught.value.messages)
    work.refresh_from_db()
    assert work.stage == "contracted"


def test_stage_change_cannot_be_dated_in_the_future(reference):
    work = _work_at("proposed")
    with pytest.raises(ValidationError):
        work_stage_change(work=work, user=None, to_stage="approved", occurred_on=date.today() + timedelta(days=2))


def test_late_is_computed_from_planned_dates(reference):
    work = _work_at("approved")
    assert not work.is_late
    Work.objects.filter(pk=work.pk).update(planned_start=date(2023, 1, 1), planned_end=date(2023, 12, 31))
    work.refresh_from_db()
    assert work.is_late
    assert not _work_at("in_operation").is_late
