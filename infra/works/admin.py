"""Admin for works: edits go through the services and the access policy, so the rules hold here too."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from leaflet.admin import LeafletGeoAdminMixin

from gis.admin import HistoryAdmin, YesNoBoxes
from infra.accounts.admin_policy import PolicyAdminMixin
from infra.accounts.policy import Action, can, sees_internal
from infra.dates import DateField
from infra.works.choices import Stage
from infra.works.history import work_related_history
from infra.works.models import DocumentKind, StageEvent, Work, WorkDocument, WorkInvestor
from infra.works.services import (
    EDITABLE_FIELDS,
    StaleVersion,
    stage_allowed_targets,
    work_check_changes,
    work_check_geometry,
    work_check_proposer_scope,
    work_create,
    work_stage_change,
    work_update,
)
from infra.works.uploads import document_attach, document_check_upload


class WorkAdminForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    request = None  # set by WorkAdmin.get_form

    class Meta:
        model = Work
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        try:
            if data.get("category") and data.get("geometry"):
                work_check_geometry(category=data["category"], geometry=data["geometry"])
                self._check_scope(data["geometry"], data.get("approved_commune"))
            if self.instance.pk:
                changes = {name: data[name] for name in self.changed_data if name in EDITABLE_FIELDS and name in data}
                work_check_changes(work=Work.objects.get(pk=self.instance.pk), changes=changes)
                current = Work.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
                expected = data.get("expected_version")
                if expected is not None and current != expected:
                    raise StaleVersion(current=Work.objects.get(pk=self.instance.pk), changed={})
        except ValidationError as exc:
            self.add_error(None, ValidationError(exc.messages))
        return data

    def _check_scope(self, geometry, approved_commune):
        if self.instance.pk:
            return  # moving an existing work is an edit, which the policy checks per work
        try:
            work_check_proposer_scope(user=self.request.user if self.request else None, geometry=geometry,
                                      approved_commune=approved_commune)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from None


class StageEventInline(YesNoBoxes, admin.TabularInline):
    model = StageEvent
    fk_name = "work"
    extra = 0
    can_delete = False
    fields = ["occurred_on", "from_stage", "to_stage", "decision_number", "note", "recorded_by"]
    readonly_fields = fields

    def get_fields(self, request, obj=None):
        # A stage's note and who recorded it are internal, as on the work's own page.
        if obj is not None and not sees_internal(request.user, obj):
            return [field for field in self.fields if field not in ("note", "recorded_by")]
        return self.fields

    def has_add_permission(self, request, obj=None):
        # Stage moves go through the lifecycle service ("Change stage"), never a free-form row.
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InvestorInline(YesNoBoxes, admin.TabularInline):
    model = WorkInvestor
    extra = 0
    can_delete = False
    autocomplete_fields = ["organisation"]

    def has_add_permission(self, request, obj=None):
        return can(request.user, Action.WORK_EDIT, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return can(request.user, Action.WORK_EDIT, obj) and super().has_change_permission(request, obj)


class DocumentForm(forms.ModelForm):
    class Meta:
        model = WorkDocument
        fields = ["kind", "title", "file", "is_public"]

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload and hasattr(upload, "content_type") and data.get("kind"):
            try:
                document_check_upload(upload=upload, kind=data["kind"])
            except ValidationError as exc:
                self.add_error("file", exc)
        return data


class DocumentInline(YesNoBoxes, admin.TabularInline):
    model = WorkDocument
    form = DocumentForm
    extra = 0
    can_delete = False
    fields = ["kind", "title", "file", "opened", "is_public", "uploaded_by", "uploaded_at"]
    readonly_fields = ["opened", "uploaded_by", "uploaded_at"]

    @admin.display(description=gettext_lazy("read"))
    def opened(self, obj):
        # The file as the policy serves it (infra.works.views.document): nothing serves the storage's own address.
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("open")) if obj and obj.pk else "—"

    def has_add_permission(self, request, obj=None):
        return can(request.user, Action.DOCUMENT_UPLOAD, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        # Those who only upload (commune officers) add documents; changing one already there (its file, its title,
        # whether the public sees it) is the board's.
        return can(request.user, Action.WORK_EDIT, obj) and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # Publishing a document is the board's: an officer's upload stays internal until the board publishes it.
        if not can(request.user, Action.WORK_EDIT, obj):
            return [*self.readonly_fields, "is_public"]
        return self.readonly_fields


class PublicDocumentInline(DocumentInline):
    """A work's documents for someone who may not read its internal ones: the public ones, read-only."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_public=True)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StageChangeForm(forms.Form):
    to_stage = forms.ChoiceField(label=gettext_lazy("new stage"))
    occurred_on = DateField(label=gettext_lazy("date"), widget=forms.DateInput(attrs={"type": "date"}))
    decision_number = forms.CharField(label=gettext_lazy("decision / record number"), required=False, max_length=80)
    note = forms.CharField(label=gettext_lazy("note or reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    evidence_file = forms.FileField(label=gettext_lazy("evidence (PDF, JPEG or PNG)"), required=False)
    evidence_title = forms.CharField(label=gettext_lazy("evidence title"), required=False, max_length=200)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, work: Work, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [(s, Stage(s).label) for s in stage_allowed_targets(work=work)]
        self.fields["expected_version"].initial = work.version
        self.fields["occurred_on"].initial = timezone.localdate()


@admin.register(Work)
class WorkAdmin(PolicyAdminMixin, LeafletGeoAdminMixin, HistoryAdmin):
    form = WorkAdminForm
    policy_add = Action.WORK_PROPOSE
    policy_change = (Action.WORK_EDIT, Action.WORK_PROGRESS)
    work_path = ""
    object_history_template = "admin/works/work/object_history.html"
    change_form_template = "admin/works/work/change_form.html"
    list_display = ["code", "name", "category", "stage", "progress", "current_commune", "approved_year", "total_investment", "is_demo"]
    list_filter = [
        "category", "stage", "approved_year", "special_mechanism", "is_demo",
        ("current_commune", admin.RelatedOnlyFieldListFilter), ("approved_commune", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["code", "name"]
    autocomplete_fields = ["approved_commune", "contractor", "villages_served"]
    inlines = [StageEventInline, InvestorInline, DocumentInline]
    history_list_display = ["version", "stage"]

    @admin.display(description=gettext_lazy("stage"), ordering="stage")
    def stage(self, record):
        # A stage as people read it ("handed over", not "handed_over"): in the list of works, and in the history list,
        # whose column header simple_history translates from this name ("stage", infra.i18n_thirdparty).
        return Stage(record.stage).label if record.stage in Stage.values else record.stage

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def get_inlines(self, request, obj):
        # Documents not public are for people who may read the work's internal facts.
        if obj is not None and not sees_internal(request.user, obj):
            return [PublicDocumentInline if inline is DocumentInline else inline for inline in self.inlines]
        return self.inlines

    def get_fields(self, request, obj=None):
        # Internal notes are for people who may read them (another commune's officer may not).
        fields = super().get_fields(request, obj)
        if obj is not None and not sees_internal(request.user, obj):
            fields = [field for field in fields if field != "internal_notes"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        derived = ["stage", "current_commune", "version", "created_at", "updated_at"]
        if obj is not None and not can(request.user, Action.WORK_EDIT, obj):
            # Commune officers update progress only; everything else is the board's.
            return derived + [f for f in sorted(EDITABLE_FIELDS) if f != "progress"] + ["code", "villages_served"]
        return derived

    def history_view(self, request, object_id, extra_context=None):
        # Show the work's own changes and, below them, those of its stages, money and upkeep.
        work = self.history_object(request, object_id)
        extra = {"related_history": work_related_history(work=work)}
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

    def save_formset(self, request, form, formset, change):
        # Uploaded documents record who uploaded them.
        for document in formset.save(commit=False):
            if isinstance(document, WorkDocument) and not document.pk:
                document.uploaded_by = request.user
                document._history_user = request.user
            document.save()
        formset.save_m2m()

    def get_urls(self):
        return [path("<int:pk>/stage/", self.admin_site.admin_view(self.stage_view), name="works_work_stage")] + super().get_urls()

    def stage_view(self, request, pk):
        """Move a work to its next stage (or suspend, resume, cancel) through the lifecycle service."""
        work = get_object_or_404(self.get_queryset(request), pk=pk)
        if not can(request.user, Action.WORK_STAGE, work):
            raise PermissionDenied
        form = StageChangeForm(request.POST or None, request.FILES or None, work=work)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    evidence = []
                    upload = form.cleaned_data.get("evidence_file")
                    if upload:
                        kind = DocumentKind.DOCUMENT if upload.name.lower().endswith(".pdf") else DocumentKind.PHOTO
                        evidence.append(document_attach(work=work, user=request.user, upload=upload, kind=kind,
                                                        title=form.cleaned_data["evidence_title"]))
                    work_stage_change(work=work, user=request.user, to_stage=form.cleaned_data["to_stage"],
                                      occurred_on=form.cleaned_data["occurred_on"], note=form.cleaned_data["note"],
                                      decision_number=form.cleaned_data["decision_number"],
                                      expected_version=form.cleaned_data["expected_version"], evidence=evidence)
            except ValidationError as exc:
                form.add_error(None, ValidationError(exc.messages))
            else:
                messages.success(request, _("Stage changed to “%(stage)s”.") % {"stage": Stage(work.stage).label})
                return redirect(reverse("admin:works_work_change", args=[work.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": work, "form": form,
                   "title": _("Change stage: %(work)s") % {"work": work}, "current_stage": Stage(work.stage).label}
        return TemplateResponse(request, "admin/works/work/stage_form.html", context)
