from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from infra.accounts.models import Organisation, Profile


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "short_name", "kind", "commune", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["name", "short_name"]


@admin.register(Profile)
class ProfileAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "organisation"]
    list_filter = ["role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["communes", "organisation"]
