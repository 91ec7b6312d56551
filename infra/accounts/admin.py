"""Admin registrations for accounts, and for the reference geography under the access policy.

The geography's admin classes live in gis (which must not import infra); they are registered
here, wrapped in the policy, so that only the board edits reference data.
"""
from django.contrib import admin

from gis.admin import AdminUnitAdmin, AdminUnitSuccessionAdmin, BaseRoadAdmin, HistoryAdmin, VillageAdmin
from gis.models import AdminUnit, AdminUnitSuccession, BaseRoad, Village
from infra.accounts.admin_policy import PolicyAdminMixin
from infra.accounts.models import Organisation, Profile
from infra.accounts.policy import Action, can


class ReferencePolicy(PolicyAdminMixin):
    policy_add = Action.REFERENCE_EDIT
    policy_change = (Action.REFERENCE_EDIT,)
    work_path = None


for model, model_admin in [(AdminUnit, AdminUnitAdmin), (AdminUnitSuccession, AdminUnitSuccessionAdmin),
                           (Village, VillageAdmin), (BaseRoad, BaseRoadAdmin)]:
    admin.site.register(model, type(model_admin.__name__, (ReferencePolicy, model_admin), {}))


@admin.register(Organisation)
class OrganisationAdmin(ReferencePolicy, HistoryAdmin):
    list_display = ["name", "short_name", "kind", "commune", "is_demo"]
    list_filter = ["kind", "is_demo"]
    search_fields = ["name", "short_name"]


@admin.register(Profile)
class ProfileAdmin(HistoryAdmin):
    """Roles and scopes: managed by whoever holds Django's own permissions on profiles (administrators)."""

    list_display = ["user", "role", "organisation"]
    list_filter = ["role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["communes", "organisation"]

    def may_read_history(self, request, obj) -> bool:
        return can(request.user, Action.HISTORY_READ) and super().may_read_history(request, obj)
