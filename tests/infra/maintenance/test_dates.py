"""Next-due arithmetic: month ends and leap years, the same in Python and in both databases."""
from __future__ import annotations

from datetime import date

import pytest

from infra.maintenance.dates import NextDue
from infra.maintenance.models import ResponsibleKind, Schedule, TaskKind, next_due

CASES = [
    # last done, months, expected
    (date(2024, 1, 31), 1, date(2024, 2, 29)),   # into a leap February
    (date(2023, 1, 31), 1, date(2023, 2, 28)),   # into a common February
    (date(2024, 2, 29), 12, date(2025, 2, 28)),  # a leap day, one year on
    (date(2024, 2, 29), 48, date(2028, 2, 29)),  # a leap day, four years on
    (date(2024, 2, 29), 1, date(2024, 3, 29)),
    (date(2025, 8, 31), 6, date(2026, 2, 28)),
    (date(2025, 3, 31), 1, date(2025, 4, 30)),   # 31 → a 30-day month
    (date(2025, 12, 31), 2, date(2026, 2, 28)),  # across the year end
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
    (date(2025, 1, 15), 3, date(2025, 4, 15)),   # an ordinary day keeps its number
    (date(2023, 5, 31), 24, date(2025, 5, 31)),
    (date(2024, 10, 31), 4, date(2025, 2, 28)),
]


@pytest.mark.parametrize(("last_done", "months", "expected"), CASES)
def test_next_due_clamps_to_the_end_of_a_short_month(last_done, months, expected):
    assert next_due(last_done=last_done, starts_on=date(2020, 1, 1), interval_months=months) == expected


def test_a_task_never_done_is_due_on_its_start_and_a_one_off_task_stays_due_there():
    assert next_due(last_done=None, starts_on=date(2026, 3, 31), interval_months=3) == date(2026, 3, 31)
    assert next_due(last_done=date(2026, 1, 1), starts_on=date(2025, 12, 1), interval_months=None) == date(2025, 12, 1)


def test_a_closed_task_is_not_due():
    schedule = Schedule(task_kind=TaskKind.REPAIR, starts_on=date(2026, 1, 1), closed_on=date(2026, 2, 1))
    assert schedule.next_due is None


@pytest.mark.django_db
def test_the_database_computes_the_same_dates_as_python(road):
    # given one schedule per case (and one never done, one one-off)
    rows = [Schedule(work=road, task_kind=TaskKind.ROUTINE, interval_months=months, last_done=last_done,
                     starts_on=date(2020, 1, 1), responsible=ResponsibleKind.COMMUNITY) for last_done, months, _ in CASES]
    rows.append(Schedule(work=road, task_kind=TaskKind.ROUTINE, interval_months=3, starts_on=date(2026, 3, 31),
                         responsible=ResponsibleKind.COMMUNITY))
    rows.append(Schedule(work=road, task_kind=TaskKind.REPAIR, interval_months=None, starts_on=date(2026, 5, 31),
                         last_done=None, responsible=ResponsibleKind.COMMUNITY))
    Schedule.objects.bulk_create(rows)
    # when the database computes next due
    computed = dict(Schedule.objects.annotate(due=NextDue()).values_list("id", "due"))
    # then it agrees with Python everywhere
    for schedule in Schedule.objects.all():
        assert computed[schedule.pk] == schedule.next_due, (schedule.last_done, schedule.interval_months)
    assert sorted(computed.values())[-1] == date(2028, 2, 29)
    # and it filters as a date
    assert Schedule.objects.annotate(due=NextDue()).filter(due__lte=date(2024, 3, 29)).count() == 3
