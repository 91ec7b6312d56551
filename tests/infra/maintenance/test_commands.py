"""manage.py maintenance_plan and maintenance_due: output, bad input, email, safe to repeat."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from infra.maintenance.models import ResponsibleKind, Schedule, TaskKind
from infra.maintenance.services import schedule_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def tasks(road, other_road, people):
    today = timezone.localdate()
    schedule_create(user=people["planner"], work=road, task_kind=TaskKind.ROUTINE, interval_months=3, starts_on=date(2025, 1, 31),
                    responsible=ResponsibleKind.COMMUNE_COMMITTEE, estimated_cost=30_000_000, description="Phát quang")
    schedule_create(user=people["planner"], work=other_road, task_kind=TaskKind.ROUTINE, interval_months=6,
                    starts_on=today + timedelta(days=10), responsible=ResponsibleKind.COMMUNITY, estimated_cost=60_000_000)
    schedule_create(user=people["planner"], work=other_road, task_kind=TaskKind.PERIODIC, interval_months=24,
                    starts_on=today + timedelta(days=200), responsible=ResponsibleKind.CONTRACTOR, estimated_cost=90_000_000)


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_plan_command_prints_the_ranked_plan_and_what_falls_outside(tasks):
    year = timezone.localdate().year + 1
    out = _run("maintenance_plan", "--year", str(year), "--budget", "150000000")
    assert f"Maintenance plan {year}" in out
    assert "Budget 150,000,000 VND; planned 120,000,000 VND" in out
    within, outside = out.split("\nOutside the budget (")
    assert "1. ROAD-PT" in within and "Overdue since 31/01/2025" in within
    assert "ROAD-DS" in outside and "only 30,000,000 VND was left" in outside


def test_the_plan_command_for_one_commune(tasks):
    out = _run("maintenance_plan", "--year", str(timezone.localdate().year + 1), "--budget", "0", "--commune", "03571")
    assert "ROAD-PT" not in out and "ROAD-DS" in out and "Within the budget (0)" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "2027", "--budget", "-1"], "The budget cannot be negative."),
    (["--year", "1999", "--budget", "1"], "The year must be a whole number from 2000 to 2100."),
    (["--year", "next", "--budget", "1"], "The year must be a whole number from 2000 to 2100."),
    (["--year", "2027", "--budget", "1", "--commune", "00000"], "No commune with code 00000"),
])
def test_the_plan_command_refuses_bad_input(tasks, args, message):
    with pytest.raises(CommandError, match=message):
        _run("maintenance_plan", *args)


def test_due_lists_tasks_per_responsible_party_and_is_safe_to_repeat(tasks):
    first = _run("maintenance_due", "--days", "30")
    assert "Maintenance: 2 tasks due within 30 days" in first
    assert "commune People's Committee – Phong Thổ (1)" in first
    assert "OVERDUE since 31/01/2025: ROAD-PT" in first
    assert "community group – Dào San (1)" in first
    assert "contractor" not in first  # due in 200 days
    schedules = list(Schedule.objects.values_list("id", "last_done", "closed_on"))
    assert _run("maintenance_due", "--days", "30") == first
    assert list(Schedule.objects.values_list("id", "last_done", "closed_on")) == schedules


def test_due_with_nothing_due(road):
    assert "Nothing is due." in _run("maintenance_due", "--days", "0")


@pytest.mark.parametrize("days", ["-1", "abc", "99999"])
def test_due_refuses_bad_days(days):
    with pytest.raises(CommandError, match="--days"):
        _run("maintenance_due", "--days", days)


def test_due_emails_the_list_when_asked(tasks, settings, mailoutbox):
    settings.MAINTENANCE_REMINDER_RECIPIENTS = ["ubnd@phongtho.example", "kehoach@phongtho.example"]
    out = _run("maintenance_due", "--days", "30", "--email")
    assert "Sent to 2 addresses." in out
    (mail,) = mailoutbox
    assert mail.subject == "Maintenance: 2 tasks due within 30 days"
    assert "ROAD-PT" in mail.body and mail.to == settings.MAINTENANCE_REMINDER_RECIPIENTS


def test_due_emails_when_email_is_configured_and_not_otherwise(tasks, settings, mailoutbox):
    settings.MAINTENANCE_REMINDER_RECIPIENTS = ["ubnd@phongtho.example"]
    _run("maintenance_due")
    assert mailoutbox == []  # EMAIL_HOST not configured
    settings.EMAIL_HOST = "smtp.phongtho.example"
    _run("maintenance_due")
    assert len(mailoutbox) == 1


def test_due_asked_to_email_without_recipients_says_so(tasks, settings):
    settings.MAINTENANCE_REMINDER_RECIPIENTS = []
    with pytest.raises(CommandError, match="MAINTENANCE_REMINDER_RECIPIENTS"):
        _run("maintenance_due", "--email")


@pytest.mark.parametrize("name", ["maintenance_plan", "maintenance_due"])
def test_the_commands_explain_themselves(name):
    from django.core.management import load_command_class

    text = load_command_class("infra.maintenance", name).create_parser("manage.py", name).format_help()
    assert "--commune" in text and len(text) > 200
