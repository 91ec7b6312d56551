from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from infra.finance.models import Allocation, CapitalDecision, CapitalPlan, Disbursement, ProgrammeNode


@admin.register(ProgrammeNode)
class ProgrammeNodeAdmin(SimpleHistoryAdmin):
    list_display = ["label", "name", "kind", "parent", "lead_agency"]
    list_filter = ["kind"]
    search_fields = ["code", "label", "name"]


class CapitalPlanInline(admin.TabularInline):
    model = CapitalPlan
    extra = 0


@admin.register(CapitalDecision)
class CapitalDecisionAdmin(SimpleHistoryAdmin):
    list_display = ["number", "issued_on", "issuer", "stated_total"]
    inlines = [CapitalPlanInline]


@admin.register(CapitalPlan)
class CapitalPlanAdmin(SimpleHistoryAdmin):
    list_display = ["decision", "year", "source", "kind", "amount"]
    list_filter = ["year", "source", "kind"]


@admin.register(Allocation)
class AllocationAdmin(SimpleHistoryAdmin):
    list_display = ["allocated_on", "programme_line", "work", "amount", "reverses", "is_demo"]
    list_filter = ["capital_plan__year", "capital_plan__source", "is_demo"]
    search_fields = ["work__code", "work__name", "decision_number"]
    autocomplete_fields = ["work"]


@admin.register(Disbursement)
class DisbursementAdmin(SimpleHistoryAdmin):
    list_display = ["paid_on", "voucher_number", "allocation", "amount", "reverses", "is_demo"]
    list_filter = ["allocation__capital_plan__year", "is_demo"]
    search_fields = ["voucher_number", "allocation__work__code"]
