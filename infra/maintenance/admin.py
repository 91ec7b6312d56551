from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from infra.accounts.admin_policy import PolicyAdminMixin
from infra.accounts.policy import Action
from infra.maintenance.models import Inspection, Record, Schedule


class MaintenancePolicy(PolicyAdminMixin):
    policy_add = Action.MAINTENANCE_EDIT
    policy_change = (Action.MAINTENANCE_EDIT,)


@admin.register(Schedule)
class ScheduleAdmin(MaintenancePolicy, SimpleHistoryAdmin):
    list_display = ["work", "task_kind", "interval_months", "last_done", "next_due", "responsible", "estimated_cost"]
    list_filter = ["task_kind", "responsible", "is_demo"]
    search_fields = ["work__code", "work__name"]


@admin.register(Inspection)
class InspectionAdmin(MaintenancePolicy, SimpleHistoryAdmin):
    list_display = ["work", "inspected_on", "condition", "inspector"]
    list_filter = ["condition", "is_demo"]
    search_fields = ["work__code", "work__name", "inspector"]


@admin.register(Record)
class RecordAdmin(MaintenancePolicy, SimpleHistoryAdmin):
    list_display = ["work", "done_on", "cost"]
    list_filter = ["is_demo"]
    search_fields = ["work__code", "work__name"]
