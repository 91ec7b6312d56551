from django import forms
from django.contrib import admin
from django.contrib.admin.utils import lookup_spawns_duplicates, unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponseNotAllowed
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from gis.models import AdminUnit, AdminUnitSuccession, BaseRoad, Village
from gis.textsearch import matching


class YesNoBox(forms.CheckboxInput):
    """A yes/no box that reads "0", "false", "off" or "no" as unticked. A browser sends "on" for a ticked box and
    nothing for an unticked one; Django's box reads any other text but "false" as ticked, so a form posted by a
    script with "0" recorded yes."""

    NO = frozenset({"0", "false", "off", "no"})

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, str) and value.strip().lower() in self.NO:
            return False
        return super().value_from_datadict(data, files, name)


class YesNoBoxes:
    """For admins and inlines: every yes/no field that is never empty is a YesNoBox (a field that may be empty,
    "not known", keeps Django's three-way list)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.BooleanField) and not db_field.null and not db_field.choices:
            kwargs.setdefault("widget", YesNoBox)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


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


class HistoryAdmin(YesNoBoxes, SimpleHistoryAdmin):
    """simple_history's admin with its history pages read-only and no wider than the change pages.

    simple_history saves the form of a record's "history version" page when it is posted, for anyone who may
    only *view* the record (SIMPLE_HISTORY_REVERT_DISABLED hides the button, not the write), and finds the record
    without the admin's queryset, so a record outside a person's scope could be read or changed there. Here a
    version page only reads (any other method is refused, 405), both history pages find the record through
    get_queryset (404 outside it), and `may_read_history` decides who reads them. Its list of versions is the
    project's own (templates/admin/history_list.html): "—" where a version has no reason or person."""

    object_history_list_template = "admin/history_list.html"

    def may_read_history(self, request, obj) -> bool:
        return self.has_view_permission(request, obj)

    def history_object(self, request, object_id):
        """The record whose history is asked for, as the change page finds it; 404 or 403 otherwise."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.may_read_history(request, obj):
            raise PermissionDenied
        return obj

    def history_view(self, request, object_id, extra_context=None):
        self.history_object(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        self.history_object(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)


class GeoHistoryAdmin(FoldedSearchMixin, LeafletGeoAdminMixin, HistoryAdmin):
    """Admin with a Leaflet map widget, the before → after history view and a search that ignores marks."""


class SuccessionInline(YesNoBoxes, admin.TabularInline):
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


class AdminUnitSuccessionAdmin(YesNoBoxes, admin.ModelAdmin):
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
