"""Maintenance schedules, inspections and records of work done."""
from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class TaskKind(models.TextChoices):
    ROUTINE = "routine", _("routine maintenance (duy tu)")
    PERIODIC = "periodic", _("periodic maintenance (bảo dưỡng)")
    REPAIR = "repair", _("repair")


class ResponsibleKind(models.TextChoices):
    COMMUNE_COMMITTEE = "commune_committee", _("commune People's Committee")
    COMMUNITY = "community", _("community group")
    CONTRACTOR = "contractor", _("contractor")


class Schedule(models.Model):
    """A recurring maintenance task on a work."""

    work = models.ForeignKey("works.Work", verbose_name=_("work"), on_delete=models.PROTECT, related_name="schedules")
    task_kind = models.CharField(_("task"), max_length=12, choices=TaskKind.choices)
    description = models.CharField(_("description"), max_length=255, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("interval (months)"))
    last_done = models.DateField(_("last done"), null=True, blank=True)
    starts_on = models.DateField(_("first due from"))
    responsible = models.CharField(_("responsible"), max_length=20, choices=ResponsibleKind.choices)
    estimated_cost = models.BigIntegerField(_("estimated cost (VND)"), default=0)
    is_demo = models.BooleanField(_("demo data"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("maintenance schedule")
        verbose_name_plural = _("maintenance schedules")
        ordering = ["work", "task_kind"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_months__gte=1), name="schedule_interval_positive"),
            models.CheckConstraint(condition=Q(estimated_cost__gte=0), name="schedule_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.work.code}: {self.get_task_kind_display()}"

    @property
    def next_due(self) -> date:
        """Return the next due date: one interval after the last time it was done."""
        # relativedelta keeps month ends sane (31 Jan + 1 month = 28/29 Feb).
        if self.last_done is None:
            return self.starts_on
        return self.last_done + relativedelta(months=self.interval_months)


class Condition(models.TextChoices):
    GOOD = "good", _("good")
    FAIR = "fair", _("fair")
    POOR = "poor", _("poor")
    FAILED = "failed", _("failed")


class Inspection(models.Model):
    """A dated look at a work's condition."""

    work = models.ForeignKey("works.Work", verbose_name=_("work"), on_delete=models.PROTECT, related_name="inspections")
    inspected_on = models.DateField(_("inspected on"))
    inspector = models.CharField(_("inspector"), max_length=120)
    condition = models.CharField(_("condition"), max_length=8, choices=Condition.choices)
    notes = models.TextField(_("notes"), blank=True)
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
    done_on = models.DateField(_("done on"))
    cost = models.BigIntegerField(_("cost (VND)"), default=0)
    description = models.TextField(_("what was done"))
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
