"""Query parameters of the API, checked by DRF serializers before any SQL is built.

Each bad value becomes a 400 with a message saying what to send instead; values reach SQL only
as parameters, never as text of the statement.
"""
from __future__ import annotations

import copy
import math
import re
import unicodedata
from datetime import date
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from gis.layers import BBox
from gis.models import AdminUnit, AdminUnitLevel
from gis.selectors import commune_resolve
from infra.finance.models import Source
from infra.works.choices import Category, Stage
from infra.works.selectors import WorkFilters

__all__ = [
    "MAX_LIMIT",
    "AdminUnitParams",
    "BBoxField",
    "ChoiceListField",
    "CommuneField",
    "QueryParams",
    "VillageParams",
    "WorkListParams",
    "WorkMapParams",
]

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
# Far beyond any real register; keeps OFFSET from becoming a way to make the database count.
MAX_OFFSET = 1_000_000
_COMMUNE_PATTERN = r"^[0-9A-Za-z]{1,16}(@[0-9]{4}-[0-9]{2}-[0-9]{2})?$"
_COMMUNE = re.compile(r"^(?P<code>[0-9A-Za-z]{1,16})(?:@(?P<on>[0-9]{4}-[0-9]{2}-[0-9]{2}))?$")


@extend_schema_field({"type": "string", "example": "103.2,22.4,103.6,22.8"})
class BBoxField(serializers.Field):
    """`minlon,minlat,maxlon,maxlat` in WGS84 degrees."""

    default_error_messages = {
        "count": _("bbox needs four numbers separated by commas: minlon,minlat,maxlon,maxlat."),
        "number": _("bbox values must be numbers in degrees, for example 103.2,22.4,103.6,22.8."),
        "range": _("bbox longitudes must lie between -180 and 180 and latitudes between -90 and 90."),
        "order": _("bbox minimum longitude and latitude must be less than the maximum ones (minlon,minlat,maxlon,maxlat)."),
    }

    def to_internal_value(self, data: Any) -> BBox:
        parts = str(data).split(",")
        if len(parts) != 4:
            self.fail("count")
        try:
            min_lon, min_lat, max_lon, max_lat = values = tuple(map(float, parts))
        except ValueError:
            self.fail("number")
        if not all(map(math.isfinite, values)):
            self.fail("number")
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            self.fail("range")
        if not (min_lon < max_lon and min_lat < max_lat):
            self.fail("order")
        return BBox(*values)

    def to_representation(self, value: BBox) -> str:
        return ",".join(str(v) for v in value.values)


@extend_schema_field({"type": "string", "example": "approved,designed"})
class ChoiceListField(serializers.Field):
    """One or more codes, comma-separated or repeated (`stage=approved,designed` or `stage=approved&stage=designed`)."""

    default_error_messages = {
        "unknown": _("Unknown value “{value}”; use one or more of: {known}."),
    }

    # Left out of a query, it reads as Field does: nothing (QueryParams.get_fields need not build it).
    left_out_is_nothing = True

    def __init__(self, *, choices: list[tuple[str, Any]], **kwargs: Any):
        self.choices = [value for value, _label in choices]
        super().__init__(**kwargs)

    def get_value(self, dictionary: Any) -> Any:
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return ",".join(dictionary.getlist(self.field_name))
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> tuple[str, ...]:
        values = [v.strip() for v in str(data).split(",") if v.strip()]
        for value in values:
            if value not in self.choices:
                self.fail("unknown", value=value[:40], known=", ".join(self.choices))
        return tuple(dict.fromkeys(values))

    def to_representation(self, value: tuple[str, ...]) -> str:
        return ",".join(value)


@extend_schema_field({"type": "string", "pattern": _COMMUNE_PATTERN, "example": "03562@2025-06-30"})
class CommuneField(serializers.Field):
    """A commune: its code (today's unit) or code@date (the unit with that code in force on that date)."""

    default_error_messages = {
        "format": _("commune must be a code such as 03549, or a code and a date such as 03562@2025-06-30."),
        "unknown": _("No commune with code {code} was in force on {on}."),
    }

    def to_internal_value(self, data: Any) -> AdminUnit:
        found = _COMMUNE.match(str(data).strip())
        if not found:
            self.fail("format")
        try:
            on = date.fromisoformat(found["on"]) if found["on"] else date.today()
        except ValueError:
            self.fail("format")
        unit = commune_resolve(code=found["code"], on=on)
        if unit is None:
            self.fail("unknown", code=found["code"], on=on.strftime("%d/%m/%Y"))
        return unit

    def to_representation(self, value: AdminUnit) -> str:
        return f"{value.code}@{value.valid_to.isoformat()}" if value.valid_to else value.code


def _left_out_is_nothing(field: serializers.Field) -> bool:
    """Whether a field a query leaves out adds nothing to what it parses to, and no error: not required,
    no default, and read as DRF's Field reads a missing name (DRF's BooleanField reads a missing name in a
    QueryDict as False, and its list fields as [], so those are always built)."""
    reads_as_field = type(field).get_value is serializers.Field.get_value or getattr(field, "left_out_is_nothing", False)
    return (reads_as_field and not field.required and field.default is empty
            and field.default_empty_html is empty)


class QueryParams(serializers.Serializer):
    """Query parameters: unknown names are refused, so a misspelt filter does not silently do nothing."""

    default_error_messages = {
        "unknown": _("Unknown parameter(s): %(names)s. Known parameters: %(known)s."),
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        # New fields from their declared arguments. DRF deep-copies every argument (choices, lazy help
        # texts), which costs more than the rest of parsing a query; no field changes its arguments.
        # Not shallow copies: a field's bound-checking validators keep their message once formatted
        # (DRF's lazy_format), in the language of the request that formatted it first. A field
        # holding another field (`child=`) binds it, so it is deep-copied as DRF does.
        declared = self._declared_fields.items()
        data = getattr(self, "initial_data", None)
        if data is not None:
            # Parsing a query: only the fields it names, and those that may give a value or an error
            # when left out. Any other field would do nothing, and building it costs.
            declared = [(name, field) for name, field in declared if name in data or not _left_out_is_nothing(field)]
        return {name: copy.deepcopy(field) if "child" in field._kwargs else type(field)(*field._args, **field._kwargs)
                for name, field in declared}

    @classmethod
    def parse(cls, query: Any) -> QueryParams:
        """Return the parameters of a query dict, validated, or raise ValidationError (a 400)."""
        params = cls(data=query)
        unknown = sorted(set(query) - set(cls._declared_fields))
        if unknown:
            raise serializers.ValidationError(
                {"non_field_errors": [params.error_messages["unknown"] % {
                    "names": ", ".join(name[:40] for name in unknown[:5]), "known": ", ".join(cls._declared_fields)}]}
            )
        params.is_valid(raise_exception=True)
        return params


class PagingParams(QueryParams):
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT,
        help_text=_("Most features to return (1–10000, default 1000)."),
    )
    offset = serializers.IntegerField(
        min_value=0, max_value=MAX_OFFSET, default=0,
        help_text=_("Features to skip, in id order. An offset at or past the number matched is refused (400)."),
    )


def _format_lazy(message: Any, **values: Any) -> Any:
    # Interpolate when the text is read, so it comes out in the language of that request.
    return lazy(lambda: str(message) % values, str)()


def _text(value: str) -> str:
    # Sources spell the same name in composed and decomposed Unicode; compare in NFC (DOMAIN.md §5).
    return unicodedata.normalize("NFC", value).strip()


class WorkFilterParams(QueryParams):
    commune = CommuneField(
        required=False,
        help_text=_("A commune code for today's unit (03549), or code@date for the unit in force on that date "
                    "(03562@2025-06-30 is the former xã Vàng Ma Chải; 03562 alone is today's xã Sì Lở Lầu). "
                    "A former commune selects the works approved under it and the works lying in the commune it "
                    "merged into that no other former commune claims."),
    )
    category = ChoiceListField(
        choices=Category.choices, required=False,
        help_text=_format_lazy(_("One or more categories: %(values)s."), values=", ".join(Category.values)),
    )
    stage = ChoiceListField(
        choices=Stage.choices, required=False,
        help_text=_format_lazy(_("One or more stages: %(values)s."), values=", ".join(Stage.values)),
    )
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text=_("Plan year of the work."))
    source = serializers.ChoiceField(
        choices=Source.choices, required=False,
        help_text=_("Funding source of the capital allocated to the work."),
    )
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text=_("Text searched in the work's name and code, case and Vietnamese marks aside (“truong” finds "
                    "“Trường”), at most 100 characters."),
    )

    def validate_q(self, value: str) -> str:
        return _text(value)

    def filters(self, bbox: BBox | None = None) -> WorkFilters:
        data = self.validated_data
        return WorkFilters(
            categories=data.get("category", ()), stages=data.get("stage", ()), year=data.get("year"),
            commune=data.get("commune"), source=data.get("source") or None, q=data.get("q", ""),
            bbox=bbox if bbox is not None else data.get("bbox"),
        )


class WorkListParams(WorkFilterParams, PagingParams):
    bbox = BBoxField(
        required=False, help_text=_("Only works whose geometry intersects this box: minlon,minlat,maxlon,maxlat (WGS84)."),
    )
    zoom = serializers.IntegerField(
        required=False, min_value=0, max_value=22,
        help_text=_("Web-map zoom the features are drawn at; coordinates are rounded to what that zoom can show."),
    )


class WorkMapParams(WorkFilterParams):
    """The printable map: a commune is required, other filters as in the API."""

    commune = CommuneField(help_text=WorkFilterParams._declared_fields["commune"].help_text)


class AdminUnitParams(PagingParams):
    level = serializers.ChoiceField(choices=AdminUnitLevel.choices, required=False, help_text=_("Only units of this level."))
    on = serializers.DateField(
        required=False, help_text=_("Units in force on this date (YYYY-MM-DD); default today. 2025-06-30 gives the "
                                    "communes and districts before the 1 July 2025 reform."),
    )
    code = serializers.RegexField(r"^[0-9A-Za-z]{1,16}$", required=False, help_text=_("Only the unit with this code."))
    geometry = serializers.ChoiceField(
        choices=[("boundary", _("boundary")), ("centre", _("administrative centre"))], default="boundary",
        help_text=_("Which geometry to return: the boundary or the administrative centre."),
    )
    bbox = BBoxField(
        required=False, help_text=_("Only units whose geometry intersects this box: minlon,minlat,maxlon,maxlat (WGS84)."),
    )
    zoom = serializers.IntegerField(
        required=False, min_value=0, max_value=22,
        help_text=_("Web-map zoom: boundaries are simplified to half a pixel at this zoom."),
    )


class VillageParams(PagingParams):
    commune = CommuneField(required=False, help_text=_("Villages of this commune (code, or code@date for a former "
                                                       "commune: its villages are counted in the commune it merged into)."))
    bbox = BBoxField(required=False, help_text=_("Only features intersecting this box: minlon,minlat,maxlon,maxlat (WGS84)."))
