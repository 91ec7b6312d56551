"""Maintenance schedules, inspections and records of work done."""
from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from infra.cells import printable
from infra.dates import in_range


class TaskKind(models.TextChoices):
    ROUTINE = "routine", _("routine maintenance (duy tu)")
    PERIODIC = "periodic", _("periodic maintenance (bảo dưỡng)")
    REPAIR = "repair", _("repair")


class ResponsibleKind(models.TextChoices):
    COMMUNE_COMMITTEE = "commune_committee", _("commune People's Committee")
    COMMUNITY = "community", _("community group")
    CONTRACTOR = "contractor", _("contractor")


class Schedule(models.Model):
    """A maintenance task on a work: recurring (routine, periodic) or one-off (a repair).

    A recurring task falls due one interval after it was last done; a one-off task has no
    interval, falls due on `starts_on` and is closed when done. A closed task is no longer due.
    """

    work = models.ForeignKey("works.Work", verbose_name=_("work"), on_delete=models.PROTECT, related_name="schedules")
    task_kind = models.CharField(_("task"), max_length=12, choices=TaskKind.choices)
    description = models.CharField(_("description"), max_length=255, blank=True, validators=[printable])
    interval_months = models.PositiveSmallIntegerField(
        _("interval (months)"), null=True, blank=True, help_text=_("empty for a one-off task such as a repair")
    )
    last_done = models.DateField(_("last done"), null=True, blank=True, validators=[in_range])
    starts_on = models.DateField(_("first due from"), validators=[in_range])
    responsible = models.CharField(_("responsible"), max_length=20, choices=ResponsibleKind.choices)
    # None: not estimated yet (a work whose investment is unknown gives no estimate): the plan lists such a task
    # apart instead of taking it for free. 0 is a task that costs the budget nothing (done by the community).
    estimated_cost = models.BigIntegerField(_("estimated cost (VND)"), null=True, blank=True, default=None)
    proposed_by = models.ForeignKey(
        "Inspection", verbose_name=_("proposed by inspection"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="proposed_repairs",
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True, help_text=_("a closed task is no longer due"),
                                 validators=[in_range])
    closing_note = models.CharField(_("why it was closed"), max_length=255, blank=True, validators=[printable])
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("maintenance schedule")
        verbose_name_plural = _("maintenance schedules")
        ordering = ["work", "task_kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_months__isnull=True) | Q(interval_months__gte=1), name="schedule_interval_positive"
            ),
            # Routine and periodic maintenance recur; only a repair may be a one-off task.
            models.CheckConstraint(
                condition=Q(task_kind=TaskKind.REPAIR) | Q(interval_months__isnull=False), name="schedule_recurring_has_interval"
            ),
            models.CheckConstraint(condition=Q(estimated_cost__gte=0), name="schedule_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.work.code}: {self.get_task_kind_display()}"

    @property
    def is_recurring(self) -> bool:
        return self.interval_months is not None

    @property
    def next_due(self) -> date | None:
        """Return the next due date (None once the task is closed).

        A recurring task is due one interval after it was last done (or on `starts_on` before
        it was ever done); a one-off task is due on `starts_on`. The same rule in SQL is
        `infra.maintenance.dates.NextDue`; tests hold the two equal.
        """
        if self.closed_on is not None:
            return None
        return next_due(last_done=self.last_done, starts_on=self.starts_on, interval_months=self.interval_months)


def next_due(*, last_done: date | None, starts_on: date, interval_months: int | None) -> date:
    """Return when a task falls due: `starts_on` until first done, then one interval after the last time."""
    if last_done is None or interval_months is None:
        return starts_on
    # relativedelta clamps to the month's end: 31 Jan + 1 month = 28/29 Feb, 29 Feb 2024 + 12 months = 28 Feb 2025.
    return last_done + relativedelta(months=interval_months)


class Condition(models.TextChoices):
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")
    FAILED = "failed", _("failed")


class Inspection(models.Model):
    """A dated look at a work's condition."""

    work = models.ForeignKey("works.Work", verbose_name=_("work"), on_delete=models.PROTECT, related_name="inspections")
    inspected_on = models.DateField(_("inspected on"), validators=[in_range])
    inspector = models.CharField(_("inspector"), max_length=120, validators=[printable])
    condition = models.CharField(_("condition"), max_length=8, choices=Condition.choices)
    notes = models.TextField(_("notes"), blank=True, validators=[printable])
    photos = models.ManyToManyField("works.WorkDocument", verbose_name=_("photos"), blank=True, related_name="inspections")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["work", "-inspected_on"]

    def __str__(self) -> str:
        return f"{self.work.code}: {self.get_condition_display()} ({self.inspected_on:%d/%m/%Y})"


class Record(models.Model):
    """Maintenance work done on a date, at a cost."""

    work = models.ForeignKey("works.Work", verbose_name=_("work"), on_delete=models.PROTECT, related_name="maintenance_records")
    schedule = models.ForeignKey(
        Schedule, verbose_name=_("schedule"), null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    done_on = models.DateField(_("done on"), validators=[in_range])
    cost = models.BigIntegerField(_("cost (VND)"), default=0)
    description = models.TextField(_("what was done"), validators=[printable])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        ordering = ["work", "-done_on"]
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0), name="record_cost_not_negative")]

    def __str__(self) -> str:
        return f"{self.work.code}: {self.done_on:%d/%m/%Y}"


class SavedPlan(models.Model):
    """A yearly plan as it was made on a day, kept as it was: its inputs, totals and every line.

    The plan page works the plan out from the data of the moment, so a plan discussed on Monday could read other
    numbers on Friday (a cost edited, a job recorded, a task added) without a word. A saved plan never changes:
    its page and its workbook are read from these rows, and its page says what the plan made today with the same
    inputs would change (infra.maintenance.saved)."""

    year = models.PositiveSmallIntegerField(_("year"))
    budget = models.BigIntegerField(_("budget (VND)"))
    commune = models.ForeignKey("geo.AdminUnit", verbose_name=_("commune"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    as_of = models.DateField(_("made from the data of"), validators=[in_range])
    made_at = models.DateTimeField(_("saved at"), auto_now_add=True)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("saved by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=255, blank=True, validators=[printable])
    total = models.BigIntegerField(_("planned (VND)"))
    demand = models.BigIntegerField(_("asked for by all due tasks (VND)"))

    class Meta:
        verbose_name = _("saved maintenance plan")
        verbose_name_plural = _("saved maintenance plans")
        ordering = ["-made_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(budget__gte=0) & Q(total__gte=0) & Q(total__lte=models.F("budget")),
                                              name="saved_plan_within_budget")]

    def __str__(self) -> str:
        return f"{self.year} · {self.made_at:%d/%m/%Y %H:%M}"


class SavedPlanLine(models.Model):
    """One line of a saved plan: the task and its work as the plan saw them, and what the plan made of it."""

    plan = models.ForeignKey(SavedPlan, on_delete=models.PROTECT, related_name="lines")
    rank = models.PositiveIntegerField()
    funded = models.BooleanField()
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="+")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="+")
    work_code = models.CharField(max_length=40)
    work_name = models.CharField(max_length=255)
    commune = models.CharField(max_length=200, blank=True)
    task_kind = models.CharField(max_length=12, choices=TaskKind.choices)
    description = models.CharField(max_length=255, blank=True)
    responsible = models.CharField(max_length=20, blank=True)
    next_due = models.DateField(validators=[in_range])
    interval_months = models.PositiveSmallIntegerField(null=True)
    unit_cost = models.BigIntegerField(null=True)  # None: not estimated
    households = models.IntegerField()
    poor_households = models.IntegerField()
    condition = models.CharField(max_length=8, blank=True)
    inspected_on = models.DateField(null=True, validators=[in_range])
    is_demo = models.BooleanField()
    rounds = models.PositiveIntegerField()
    cost = models.BigIntegerField()
    overdue = models.BooleanField()
    failed = models.BooleanField()
    weighted = models.BigIntegerField()
    left_before = models.BigIntegerField()
    left_after = models.BigIntegerField()

    class Meta:
        ordering = ["plan", "rank"]
        constraints = [models.UniqueConstraint(fields=["plan", "rank"], name="saved_plan_line_rank_unique")]

    def __str__(self) -> str:
        return f"{self.rank}. {self.work_code}: {self.get_task_kind_display()}"


class SavedPlanLeftOut(models.Model):
    """A task a saved plan left out because its work was not in use (selectors.tasks_left_out), as it stood."""

    plan = models.ForeignKey(SavedPlan, on_delete=models.PROTECT, related_name="left_out")
    work = models.ForeignKey("works.Work", on_delete=models.PROTECT, related_name="+")
    work_code = models.CharField(max_length=40)
    work_name = models.CharField(max_length=255)
    stage = models.CharField(max_length=20)
    task_kind = models.CharField(max_length=12, choices=TaskKind.choices)
    next_due = models.DateField(validators=[in_range])
    estimated_cost = models.BigIntegerField(null=True)
    is_demo = models.BooleanField()

    class Meta:
        ordering = ["plan", "work_code", "next_due", "id"]

    def __str__(self) -> str:
        return f"{self.work_code}: {self.get_task_kind_display()}"
