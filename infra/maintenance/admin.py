"""Maintenance in the admin: writes go through the services, so the rules and the policy hold here too.

Schedules may be added and changed (last done and closing move through records and the
maintenance page); inspections and records are facts, added and never edited or deleted.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from gis.admin import HistoryAdmin
from infra.accounts.admin_policy import PolicyAdminMixin
from infra.accounts.policy import Action, works_internal, works_visible
from infra.maintenance.models import Inspection, Record, Schedule
from infra.maintenance.services import (
    SCHEDULE_EDITABLE,
    inspection_create,
    record_create,
    schedule_create,
    schedule_state,
    schedule_update,
)


class ServiceAdmin(PolicyAdminMixin, HistoryAdmin):
    """Call a service from the form's clean (so its refusal shows on the form), then show what it wrote."""

    policy_add = Action.MAINTENANCE_EDIT
    policy_change = (Action.MAINTENANCE_EDIT,)

    def write(self, *, user, data, obj, changed):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_view = self

        class ServiceForm(form):
            def clean(self):
                data = super().clean()
                if self.errors:
                    return data
                try:
                    # The admin view runs in one transaction: a later failure rolls this back too.
                    self.written = admin_view.write(user=request.user, data=data, obj=obj, changed=self.changed_data)
                except ValidationError as exc:
                    self.add_error(None, ValidationError(exc.messages))
                return data

        ServiceForm.__name__ = form.__name__
        return ServiceForm

    def save_model(self, request, obj, form, change):
        obj.pk = form.written.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields (inspection photos) are written by the service, not the form.
        pass


class ScheduleForm(forms.ModelForm):
    # The task's state when the form was shown (services.schedule_state): a save over someone else's is refused.
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    class Meta:
        model = Schedule
        fields = ["work", "task_kind", "description", "interval_months", "starts_on", "responsible", "estimated_cost"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen"].initial = schedule_state(self.instance)


@admin.register(Schedule)
class ScheduleAdmin(ServiceAdmin):
    form = ScheduleForm
    list_display = ["work", "task_kind", "interval_months", "last_done", "next_due", "responsible", "estimated_cost", "closed_on",
                    "is_demo"]
    list_filter = ["task_kind", "responsible", "is_demo"]
    search_fields = ["work__code", "work__name"]
    fields = ["work", "task_kind", "description", "interval_months", "starts_on", "responsible", "estimated_cost",
              "last_done", "proposed_by", "closed_on", "closing_note", "seen"]

    def get_readonly_fields(self, request, obj=None):
        derived = ["last_done", "proposed_by", "closed_on", "closing_note"]
        return derived + (["work"] if obj is not None else [])

    def write(self, *, user, data, obj, changed):
        fields = {name: data[name] for name in SCHEDULE_EDITABLE if name in data}
        if obj is None:
            return schedule_create(user=user, work=data["work"], **fields)
        return schedule_update(user=user, schedule=obj, seen=data.get("seen") or None,
                               **{name: fields[name] for name in changed if name in fields})


class FactAdmin(ServiceAdmin):
    policy_change = ()

    def has_change_permission(self, request, obj=None):
        # Viewing stays with Django's view permission; facts are corrected by a new record.
        return False


@admin.register(Inspection)
class InspectionAdmin(FactAdmin):
    list_display = ["work", "inspected_on", "condition", "inspector", "is_demo"]
    list_filter = ["condition", "is_demo"]
    search_fields = ["work__code", "work__name", "inspector"]
    fields = ["work", "inspected_on", "inspector", "condition", "notes"]

    def get_queryset(self, request):
        # An inspection names its inspector and holds notes: internal facts, read as the work's own page reads them.
        return super().get_queryset(request).filter(work__in=works_internal(request.user))

    def write(self, *, user, data, obj, changed):
        return inspection_create(user=user, work=data["work"], inspected_on=data["inspected_on"], inspector=data["inspector"],
                                 condition=data["condition"], notes=data.get("notes", ""))


class RecordForm(forms.ModelForm):
    class Meta:
        model = Record
        fields = ["work", "schedule", "done_on", "cost", "description"]


@admin.register(Record)
class RecordAdmin(FactAdmin):
    form = RecordForm
    list_display = ["work", "done_on", "cost", "schedule", "is_demo"]
    list_filter = ["is_demo"]
    search_fields = ["work__code", "work__name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "schedule":
            kwargs["queryset"] = (Schedule.objects.filter(closed_on__isnull=True, work__in=works_visible(request.user))
                                  .select_related("work").order_by("work__code"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def write(self, *, user, data, obj, changed):
        return record_create(user=user, work=data["work"], done_on=data["done_on"], cost=data["cost"],
                             description=data["description"], schedule=data.get("schedule"))
