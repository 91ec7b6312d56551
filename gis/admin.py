from django.contrib import admin
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from gis.models import AdminUnit, AdminUnitSuccession, BaseRoad, Village
from gis.textsearch import matching


class FoldedSearchMixin:
    """The admin's search (and the autocomplete fields that ask it) with case and Vietnamese marks aside
    (gis.textsearch): as Django's own, every word of the search must be in one of `search_fields`."""

    def get_search_results(self, request, queryset, search_term):
        fields = self.get_search_fields(request)
        if any(f[:1] in "^=@" or f == "pk" for f in fields):
            return super().get_search_results(request, queryset, search_term)  # Django's prefixed lookups
        words = [unescape_string_literal(w) if w[:1] in "\"'" and w[-1:] == w[:1] else w for w in smart_split(search_term)]
        words = [w for w in words if w.strip()]
        if not fields or not words:
            return queryset, False
        for word in words:
            queryset = matching(queryset, word, *fields)
        return queryset, any(lookup_spawns_duplicates(self.opts, path) for path in fields)


class GeoHistoryAdmin(FoldedSearchMixin, LeafletGeoAdminMixin, SimpleHistoryAdmin):
    """Admin with a Leaflet map widget, the before → after history view and a search that ignores marks."""


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
