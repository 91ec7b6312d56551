from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from gis.models import AdminUnit, AdminUnitSuccession, BaseRoad, Village


class GeoHistoryAdmin(LeafletGeoAdminMixin, SimpleHistoryAdmin):
    """Admin with a Leaflet map widget and the before → after history view."""


class SuccessionInline(admin.TabularInline):
    model = AdminUnitSuccession
    fk_name = "predecessor"
    extra = 0
    verbose_name = _("successor")
    verbose_name_plural = _("successors")


class AdminUnitAdmin(GeoHistoryAdmin):
    list_display = ["name", "unit_type", "level", "code", "valid_from", "valid_to", "population", "especially_difficult"]
    list_filter = ["level", "unit_type", "especially_difficult", ("valid_to", admin.EmptyFieldListFilter)]
    search_fields = ["name", "code", "aliases"]
    inlines = [SuccessionInline]
    autocomplete_fields = ["parent"]


class AdminUnitSuccessionAdmin(admin.ModelAdmin):
    list_display = ["predecessor", "successor", "effective_on", "legal_basis"]
    autocomplete_fields = ["predecessor", "successor"]


class VillageAdmin(GeoHistoryAdmin):
    list_display = ["name", "code", "commune", "population", "poor_households", "is_demo"]
    list_filter = ["is_demo", ("commune", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]
    autocomplete_fields = ["commune"]


class BaseRoadAdmin(GeoHistoryAdmin):
    list_display = ["name", "code", "road_class", "surface", "all_season", "is_demo"]
    list_filter = ["road_class", "surface", "all_season", "is_demo"]
    search_fields = ["name", "code"]
