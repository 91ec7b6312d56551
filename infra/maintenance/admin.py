from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from infra.maintenance.models import Inspection, Record, Schedule


@admin.register(Schedule)
class ScheduleAdmin(SimpleHistoryAdmin):
    list_display = ["work", "task_kind", "interval_months", "last_done", "next_due", "responsible", "estimated_cost"]
    list_filter = ["task_kind", "responsible", "is_demo"]
    search_fields = ["work__code", "work__name"]
    autocomplete_fields = ["work"]


@admin.register(Inspection)
class InspectionAdmin(SimpleHistoryAdmin):
    list_display = ["work", "inspected_on", "condition", "inspector"]
    list_filter = ["condition", "is_demo"]
    search_fields = ["work__code", "work__name", "inspector"]
    autocomplete_fields = ["work"]


@admin.register(Record)
class RecordAdmin(SimpleHistoryAdmin):
    list_display = ["work", "done_on", "cost"]
    list_filter = ["is_demo"]
    search_fields = ["work__code", "work__name"]
    autocomplete_fields = ["work"]
