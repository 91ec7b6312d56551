"""Admin for works: edits go through the services, so the rules hold here too."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from infra.works.history import work_related_history
from infra.works.models import StageEvent, Work, WorkDocument, WorkInvestor
from infra.works.services import EDITABLE_FIELDS, StaleVersion, work_check_changes, work_check_geometry, work_create, work_update


class WorkAdminForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Work
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if data.get("category") and data.get("geometry"):
            try:
                work_check_geometry(category=data["category"], geometry=data["geometry"])
            except ValidationError as exc:
                self.add_error(None, exc)
        if self.instance.pk:
            changes = {name: data[name] for name in self.changed_data if name in EDITABLE_FIELDS and name in data}
            try:
                work_check_changes(work=Work.objects.get(pk=self.instance.pk), changes=changes)
            except ValidationError as exc:
                self.add_error(None, exc)
        expected = data.get("expected_version")
        if self.instance.pk and expected is not None:
            current = Work.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
            if current != expected:
                self.add_error(None, StaleVersion(current=Work.objects.get(pk=self.instance.pk), changed={}))
        return data


class StageEventInline(admin.TabularInline):
    model = StageEvent
    fk_name = "work"
    extra = 0
    can_delete = False
    fields = ["occurred_on", "from_stage", "to_stage", "decision_number", "note", "recorded_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        # Stage moves go through the lifecycle service, never a free-form row.
        return False


class InvestorInline(admin.TabularInline):
    model = WorkInvestor
    extra = 0
    autocomplete_fields = ["organisation"]


class DocumentInline(admin.TabularInline):
    model = WorkDocument
    extra = 0
    fields = ["kind", "title", "file", "is_public", "uploaded_by", "uploaded_at"]
    readonly_fields = ["uploaded_by", "uploaded_at"]


@admin.register(Work)
class WorkAdmin(LeafletGeoAdminMixin, SimpleHistoryAdmin):
    form = WorkAdminForm
    object_history_template = "admin/works/work/object_history.html"
    list_display = ["code", "name", "category", "stage", "progress", "current_commune", "approved_year", "total_investment", "is_demo"]
    list_filter = [
        "category", "stage", "approved_year", "special_mechanism", "is_demo",
        ("current_commune", admin.RelatedOnlyFieldListFilter), ("approved_commune", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["code", "name"]
    readonly_fields = ["stage", "current_commune", "version", "created_at", "updated_at"]
    autocomplete_fields = ["approved_commune", "contractor", "villages_served"]
    inlines = [StageEventInline, InvestorInline, DocumentInline]
    history_list_display = ["version", "stage"]

    def history_view(self, request, object_id, extra_context=None):
        # Show the work's own changes and, below them, those of its stages, money and upkeep.
        work = self.get_object(request, object_id)
        extra = {"related_history": work_related_history(work=work) if work else []}
        return super().history_view(request, object_id, extra_context={**(extra_context or {}), **extra})

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            changed = {name: fields[name] for name in form.changed_data if name in fields}
            expected = form.cleaned_data.get("expected_version") or obj.version
            work_update(work=obj, user=request.user, expected_version=expected, **changed)
        else:
            created = work_create(user=request.user, code=form.cleaned_data["code"], **fields)
            obj.pk = created.pk
            obj._state.adding = False
        obj.refresh_from_db()
