from django.contrib import admin

from infra.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the system and never edited by anyone."""

    list_display = ["seq", "recorded_at", "username", "model_label", "object_pk", "action", "hash"]
    list_filter = ["model_label", "action"]
    search_fields = ["object_pk", "username", "hash"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
