"""Query parameters of /ogc/: the API's own fields (bbox, lists of codes, communes) plus OGC's datetime."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gis.models import RoadClass, RoadSurface
from infra.api.params import MAX_LIMIT, MAX_OFFSET, BBoxField, ChoiceListField, CommuneField, QueryParams
from infra.works.choices import Category, Stage

__all__ = ["DEFAULT_LIMIT", "FORMATS", "params_for"]

DEFAULT_LIMIT = 100
FORMATS = ("json", "html")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class DateTimeField(serializers.Field):
    """RFC 3339 instant or interval (`a/b`, either end `..` or empty): kept as the days it spans."""

    default_error_messages = {
        "format": _("datetime must be a date or date-time (RFC 3339) such as 2024-05-01 or 2024-05-01T00:00:00Z, "
                    "or an interval such as 2023-01-01/2024-12-31 or 2024-01-01/.."),
        "order": _("datetime interval must start before it ends."),
    }

    def _one(self, text: str) -> date | None:
        text = text.strip()
        if text in ("", ".."):
            return None
        try:
            if "T" in text or "t" in text:
                return datetime.fromisoformat(text.replace("z", "Z")).date()
            if not _DATE.match(text) or len(text) != 10:
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.fail("format")

    def to_internal_value(self, data: Any) -> tuple[date | None, date | None]:
        parts = str(data).split("/")
        if len(parts) == 1:
            day = self._one(parts[0])
            if day is None:
                self.fail("format")
            return day, day
        if len(parts) != 2:
            self.fail("format")
        start, end = self._one(parts[0]), self._one(parts[1])
        if start is None and end is None and parts[0].strip() == parts[1].strip() == "":
            self.fail("format")
        if start and end and start > end:
            self.fail("order")
        return start, end


class ItemsParams(QueryParams):
    f = serializers.ChoiceField(choices=FORMATS, required=False, help_text=_("Response format: json or html."))
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT,
                                     help_text=_("Most features to return (1–10000, default 100)."))
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0,
                                      help_text=_("Features to skip, in id order."))
    bbox = BBoxField(required=False, help_text=_("Only features intersecting this box: minlon,minlat,maxlon,maxlat (WGS84)."))


class TimedParams(ItemsParams):
    datetime = DateTimeField(required=False)


class WorksParams(TimedParams):
    category = ChoiceListField(choices=Category.choices, required=False)
    stage = ChoiceListField(choices=Stage.choices, required=False)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    commune = CommuneField(required=False)


class UnitsParams(TimedParams):
    code = serializers.RegexField(r"^[0-9A-Za-z]{1,16}$", required=False)


class CommuneFilterParams(ItemsParams):
    commune = CommuneField(required=False)


class RoadsParams(ItemsParams):
    road_class = ChoiceListField(choices=RoadClass.choices, required=False)
    surface = ChoiceListField(choices=RoadSurface.choices, required=False)


class FormatParams(QueryParams):
    f = serializers.ChoiceField(choices=FORMATS, required=False, help_text=_("Response format: json or html."))


_BY_COLLECTION = {
    "works": WorksParams, "communes": UnitsParams, "communes-2025-06-30": UnitsParams,
    "villages": CommuneFilterParams, "village-links": CommuneFilterParams, "roads": RoadsParams,
}


def params_for(collection_id: str) -> type[QueryParams]:
    return _BY_COLLECTION[collection_id]
