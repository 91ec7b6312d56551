"""Forms and query parameters of the maintenance pages; the rules themselves live in the services and the planner."""
from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gis.models import AdminUnit
from infra.api.params import CommuneField
from infra.dates import DateField
from infra.maintenance.models import Condition, ResponsibleKind, Schedule, TaskKind
from infra.maintenance.planner import check_inputs
from infra.numbers import WholeNumberField

__all__ = [
    "CloseForm",
    "InspectionForm",
    "RecordForm",
    "ScheduleForm",
    "add_service_errors",
    "parse_commune",
    "parse_plan_query",
]

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def parse_commune(value: str | None) -> AdminUnit | None:
    """Return the commune a `commune` parameter names (code, or code@date), None when empty; ValidationError otherwise."""
    if value is None or not str(value).strip():
        return None
    try:
        return CommuneField().run_validation(str(value)[:40])
    except serializers.ValidationError as error:
        raise ValidationError({"commune": [str(message) for message in error.detail]}) from None


def parse_plan_query(query: Any) -> tuple[int, int, AdminUnit | None]:
    """Return year, budget and commune from a query, or raise ValidationError naming each bad value."""
    errors: dict[str, list[str]] = {}
    year = budget = 0
    try:
        year, budget = check_inputs(year=query.get("year", ""), budget=query.get("budget", ""))
    except ValidationError as error:
        errors.update(error.message_dict)
    commune = None
    try:
        commune = parse_commune(query.get("commune"))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return year, budget, commune


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form: on the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = PhotosInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(PhotosField, self).clean(item, initial) for item in files if item]


class InspectionForm(forms.Form):
    inspected_on = DateField(label=_("inspected on"), widget=_DATE)
    inspector = forms.CharField(label=_("inspector"), max_length=120)
    condition = forms.ChoiceField(label=_("condition"), choices=Condition.choices)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    repair_cost = WholeNumberField(label=_("repair estimate (VND), if poor or failed"), required=False)
    photos = PhotosField(label=_("photos (JPEG or PNG)"), required=False)


class RecordForm(forms.Form):
    schedule = forms.ModelChoiceField(label=_("task done"), queryset=Schedule.objects.none(), required=False,
                                      empty_label=_("(not a scheduled task)"))
    done_on = DateField(label=_("done on"), widget=_DATE)
    cost = WholeNumberField(label=_("cost (VND)"))
    description = forms.CharField(label=_("what was done"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, work, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = work.schedules.filter(closed_on__isnull=True).order_by("task_kind", "id")


class ScheduleForm(forms.Form):
    schedule = forms.IntegerField(widget=forms.HiddenInput, required=False)  # set when changing an existing task
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)  # its state when shown (schedule_state)
    task_kind = forms.ChoiceField(label=_("task"), choices=TaskKind.choices)
    interval_months = WholeNumberField(label=_("interval (months)"), required=False,
                                         help_text=_("empty for a one-off task such as a repair"))
    starts_on = DateField(label=_("first due from"), widget=_DATE)
    responsible = forms.ChoiceField(label=_("responsible"), choices=ResponsibleKind.choices)
    estimated_cost = WholeNumberField(label=_("estimated cost (VND)"), required=False,
                                      help_text=_("empty when not estimated yet: the plan lists the task apart"))
    description = forms.CharField(label=_("description"), max_length=255, required=False)


class CloseForm(forms.Form):
    schedule = forms.IntegerField(widget=forms.HiddenInput)
    closed_on = DateField(label=_("closed on"), widget=_DATE)
    note = forms.CharField(label=_("why it was closed"), max_length=255)
