"""Money in the admin: new records go through the services; nothing is edited or deleted."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from gis.admin import HistoryAdmin, YesNoBoxes
from infra.accounts.admin_policy import PolicyAdminMixin
from infra.accounts.policy import Action
from infra.finance.models import Allocation, CapitalDecision, CapitalPlan, Disbursement, ProgrammeNode
from infra.finance.services import (
    allocation_create,
    allocation_reverse,
    disbursement_create,
    disbursement_reverse,
    plan_unallocated,
)


class StructurePolicy(PolicyAdminMixin):
    policy_add = Action.MONEY_RECORD
    policy_change = (Action.MONEY_RECORD,)
    work_path = None


@admin.register(ProgrammeNode)
class ProgrammeNodeAdmin(StructurePolicy, HistoryAdmin):
    list_display = ["label", "name", "kind", "parent", "lead_agency"]
    list_filter = ["kind"]
    search_fields = ["code", "label", "name"]


class CapitalPlanInline(YesNoBoxes, admin.TabularInline):
    model = CapitalPlan
    extra = 0
    can_delete = False


@admin.register(CapitalDecision)
class CapitalDecisionAdmin(StructurePolicy, HistoryAdmin):
    list_display = ["number", "issued_on", "issuer", "stated_total"]
    inlines = [CapitalPlanInline]


class CapitalPlanForm(forms.ModelForm):
    class Meta:
        model = CapitalPlan
        fields = "__all__"

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if self.instance.pk:
            stored = CapitalPlan.objects.get(pk=self.instance.pk)
            allocated = stored.amount - plan_unallocated(capital_plan=stored)
            if amount < allocated:
                raise ValidationError(_("The plan cannot be lowered below what is already allocated."))
        return amount


@admin.register(CapitalPlan)
class CapitalPlanAdmin(StructurePolicy, HistoryAdmin):
    form = CapitalPlanForm
    list_display = ["decision", "year", "source", "kind", "amount"]
    list_filter = ["year", "source", "kind"]


class ServiceWriteAdmin(PolicyAdminMixin, HistoryAdmin):
    """Adds call a service from the form's clean (so its refusal shows on the form); no edits."""

    policy_add = Action.MONEY_RECORD
    policy_change = ()

    def write(self, *, user, data):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_view = self

        class ServiceForm(form):
            def _post_clean(self):
                # The service writes once everything else has passed, the model's own checks among them. It
                # used to write from clean(), before them: the unique check then found the row just written
                # (a payment's voucher), so the form said "already exists" while the payment stayed
                # recorded, and whoever tried again recorded it twice.
                super()._post_clean()
                if self.errors or obj is not None:
                    return
                try:
                    self.written = admin_view.write(user=request.user, data=self.cleaned_data)
                except ValidationError as exc:
                    # Shown at the top of the form: the service may name fields the form lacks.
                    self.add_error(None, ValidationError(exc.messages))

        return ServiceForm

    def save_model(self, request, obj, form, change):
        written = form.written
        obj.pk = written.pk
        obj._state.adding = False
        obj.refresh_from_db()


@admin.register(Allocation)
class AllocationAdmin(ServiceWriteAdmin):
    list_display = ["allocated_on", "programme_line", "work", "amount", "reverses", "is_demo"]
    list_filter = ["capital_plan__year", "capital_plan__source", "is_demo"]
    search_fields = ["work__code", "work__name", "decision_number"]
    fields = ["capital_plan", "programme_line", "work", "amount", "allocated_on", "decision_number", "reverses", "note"]

    def write(self, *, user, data):
        if data.get("reverses"):
            return allocation_reverse(allocation=data["reverses"], amount=data["amount"], on=data["allocated_on"],
                                      reason=data.get("note", ""), user=user,
                                      stated={name: data.get(name) for name in ("capital_plan", "programme_line", "work")})
        return allocation_create(capital_plan=data["capital_plan"], programme_line=data["programme_line"], work=data.get("work"),
                                 amount=data["amount"], allocated_on=data["allocated_on"],
                                 decision_number=data.get("decision_number", ""), note=data.get("note", ""), user=user)


@admin.register(Disbursement)
class DisbursementAdmin(ServiceWriteAdmin):
    list_display = ["paid_on", "voucher_number", "allocation", "amount", "reverses", "is_demo"]
    list_filter = ["allocation__capital_plan__year", "is_demo"]
    search_fields = ["voucher_number", "allocation__work__code"]
    work_path = "allocation__work"
    fields = ["allocation", "amount", "paid_on", "voucher_number", "reverses", "note"]

    def write(self, *, user, data):
        if data.get("reverses"):
            return disbursement_reverse(disbursement=data["reverses"], on=data["paid_on"], reason=data.get("note", ""),
                                        voucher_number=data.get("voucher_number", ""), user=user,
                                        stated={name: data.get(name) for name in ("allocation", "amount")})
        return disbursement_create(allocation=data["allocation"], amount=data["amount"], paid_on=data["paid_on"],
                                   voucher_number=data.get("voucher_number", ""), note=data.get("note", ""), user=user)
