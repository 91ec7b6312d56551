"""The collections served at /ogc/: what each one is, its filters, and how a page of it is read.

Every page is one statement built by gis.layers.feature_page (GeoJSON made in the database, the
count capped); works start from the access policy's queryset, so the public sees published works
and public fields only, exactly as on the map and in /api/works/.

Time (`datetime`): a work's time is its plan year (1 January – 31 December of `approved_year`),
the year the register and the plan are organised by; an administrative unit's time is its validity
period (`valid_from` – `valid_to`, open-ended while in force). Villages, roads and village links
carry no time, and refuse `datetime`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Max, Min
from django.utils.translation import gettext_lazy as _

from gis.layers import BBox, Layer, Page, feature, feature_page, json_bool
from gis.models import AdminUnit, AdminUnitLevel, BaseRoad
from gis.selectors import _link_layer, _unit_layer, _village_layer, unit_area_ids
from infra.network.selectors import village_link_join
from infra.works.models import Work
from infra.works.selectors import WorkFilters, province_area, work_feature, works_page

__all__ = ["COLLECTIONS", "Collection", "Query", "collection_extent"]

FORMER_DAY = date(2025, 6, 30)


@dataclass(frozen=True)
class Query:
    """A checked items request: paging, box, time interval (either end open) and property filters."""

    limit: int
    offset: int = 0
    bbox: BBox | None = None
    start: date | None = None
    end: date | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    raw: bool = False  # the page's text as UTF-8 bytes (gis.layers.feature_page)


@dataclass(frozen=True)
class Collection:
    id: str
    title: Any
    description: Any
    page: Callable[[Any, Query], Page]
    item: Callable[[Any, int], str | None]
    temporal: Callable[[], list] | None = None
    filters: tuple[str, ...] = ()


def _day(value: date | None) -> str | None:
    return f"{value.isoformat()}T00:00:00Z" if value else None


# --- works ---------------------------------------------------------------------------------------

def _works_page(user: Any, query: Query) -> Page:
    f = query.filters
    return works_page(user=user, filters=WorkFilters(
        categories=f.get("category", ()), stages=f.get("stage", ()), year=f.get("year"), commune=f.get("commune"),
        bbox=query.bbox, first_year=query.start.year if query.start else None,
        last_year=query.end.year if query.end else None,
    ), limit=query.limit, offset=query.offset, raw=query.raw)


def _works_item(user: Any, pk: int) -> str | None:
    return work_feature(user=user, pk=pk)


def _works_temporal() -> list:
    years = Work.objects.aggregate(first=Min("approved_year"), last=Max("approved_year"))
    if years["first"] is None:
        return [[None, None]]
    return [[f"{years['first']}-01-01T00:00:00Z", f"{years['last']}-12-31T23:59:59Z"]]


# --- administrative units ------------------------------------------------------------------------

_OVERLAPS = "(t.valid_from IS NULL OR t.valid_from <= %s) AND (t.valid_to IS NULL OR t.valid_to >= %s)"


def _units(current: bool) -> tuple[Callable, Callable, Callable]:
    # Former communes are the units that ended on the eve of the reform (codes were reused after it).
    base = "t.level = %s AND " + ("t.valid_to IS NULL" if current else "t.valid_to = %s")
    base_params: list = [AdminUnitLevel.COMMUNE] if current else [AdminUnitLevel.COMMUNE, FORMER_DAY.isoformat()]

    def where(query_or_none: Query | None) -> tuple[str, list]:
        conditions, params = [base], list(base_params)
        if query_or_none is not None:
            if query_or_none.start or query_or_none.end:
                conditions.append(_OVERLAPS)
                params += [(query_or_none.end or date.max).isoformat(), (query_or_none.start or date.min).isoformat()]
            if query_or_none.filters.get("code"):
                conditions.append("t.code = %s")
                params.append(query_or_none.filters["code"])
        return " AND ".join(conditions), params

    def page(_user: Any, query: Query) -> Page:
        sql, params = where(query)
        return feature_page(_unit_layer("boundary"), limit=query.limit, offset=query.offset, raw=query.raw, where=sql,
                            params=params, bbox=query.bbox)

    def item(_user: Any, pk: int) -> str | None:
        sql, params = where(None)
        return feature(_unit_layer("boundary"), where=f"t.id = %s AND {sql}", params=[pk, *params])

    def temporal() -> list:
        units = AdminUnit.objects.filter(level=AdminUnitLevel.COMMUNE)
        units = units.filter(valid_to__isnull=True) if current else units.filter(valid_to=FORMER_DAY)
        span = units.aggregate(first=Min("valid_from"), last=Max("valid_to"))
        return [[_day(span["first"]), _day(span["last"])]]

    return page, item, temporal


_current_page, _current_item, _current_temporal = _units(current=True)
_former_page, _former_item, _former_temporal = _units(current=False)


# --- villages, village links, roads --------------------------------------------------------------

def _commune_where(query: Query | None) -> tuple[str, list]:
    unit = query.filters.get("commune") if query else None
    if unit is None:
        return "", []
    ids = unit_area_ids(unit)
    if not ids:
        return "1 = 0", []
    return f"t.commune_id IN ({', '.join(['%s'] * len(ids))})", ids


def _villages_page(_user: Any, query: Query) -> Page:
    where, params = _commune_where(query)
    return feature_page(_village_layer(), limit=query.limit, offset=query.offset, raw=query.raw, where=where, params=params,
                        bbox=query.bbox)


def _villages_item(_user: Any, pk: int) -> str | None:
    return feature(_village_layer(), where="t.id = %s", params=[pk])


def _links_layer() -> Layer:
    return _link_layer(village_link_join(village_alias="t"))


def _links_page(_user: Any, query: Query) -> Page:
    where, params = _commune_where(query)
    return feature_page(_links_layer(), limit=query.limit, offset=query.offset, raw=query.raw, where=where, params=params,
                        bbox=query.bbox)


def _links_item(_user: Any, pk: int) -> str | None:
    return feature(_links_layer(), where="t.id = %s", params=[pk])


def _roads_layer() -> Layer:
    return Layer(
        table=BaseRoad._meta.db_table,
        spatial_index="geometry",
        properties={"code": "t.code", "name": "t.name", "road_class": "t.road_class", "surface": "t.surface",
                    "all_season": json_bool("t.all_season"), "is_demo": json_bool("t.is_demo")},
    )


def _roads_page(_user: Any, query: Query) -> Page:
    conditions, params = [], []
    for name in ("road_class", "surface"):
        values = query.filters.get(name)
        if values:
            conditions.append(f"t.{name} IN ({', '.join(['%s'] * len(values))})")
            params += list(values)
    return feature_page(_roads_layer(), limit=query.limit, offset=query.offset, raw=query.raw, where=" AND ".join(conditions),
                        params=params, bbox=query.bbox)


def _roads_item(_user: Any, pk: int) -> str | None:
    return feature(_roads_layer(), where="t.id = %s", params=[pk])


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection(
        "works", _("Works"),
        _("Infrastructure works of the programme. The public sees works from investment approval on. Time is the "
          "plan year of the work."),
        _works_page, _works_item, _works_temporal, ("category", "stage", "year", "commune"),
    ),
    Collection(
        "communes", _("Communes (since 1 July 2025)"),
        _("Commune-level units in force today, with their boundaries. Time is the validity period."),
        _current_page, _current_item, _current_temporal, ("code",),
    ),
    Collection(
        "communes-2025-06-30", _("Communes before the 1 July 2025 reform"),
        _("Commune-level units in force on 30 June 2025; most have no open boundary of their own (null geometry). "
          "Time is the validity period."),
        _former_page, _former_item, _former_temporal, ("code",),
    ),
    Collection("villages", _("Villages"), _("Villages (thôn, bản) with their population and poor households."),
               _villages_page, _villages_item, None, ("commune",)),
    Collection("roads", _("Base roads"), _("Road segments not built by the programme."),
               _roads_page, _roads_item, None, ("road_class", "surface")),
    Collection(
        "village-links", _("Village links"),
        _("A straight line from every village to its commune centre, with its status from the latest connectivity run."),
        _links_page, _links_item, None, ("commune",),
    ),
)}


def collection_extent() -> list[float]:
    """Return the province's bounding box (all collections lie in it), or Viet Nam's without reference data."""
    area = province_area()
    if area is None:
        return [102.1, 8.1, 109.5, 23.4]
    return [round(v, 6) for v in area.extent]
