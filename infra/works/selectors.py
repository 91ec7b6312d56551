"""Queries about works.

Every query that returns works starts from the access policy (`works_visible`), so the map, the
API, the detail page and the printable map show exactly what the person may see.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from enum import Enum
from functools import cache, lru_cache
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from gis.layers import (
    COUNT_CAP, BBox, Layer, Page, bbox_condition, bbox_parts, box_is_wide, box_numbers, feature, feature_collection,
    feature_page, intersects_template, json_bool, json_subarray, on_postgis, parts_template, sql_with_words,
)
from gis.layers import precision_for_zoom as _precision_for_zoom
from gis.models import AdminUnit, AdminUnitLevel, Village
from gis.selectors import unit_area_ids
from gis.textsearch import matching
from infra.accounts.policy import sees_internal, stages_seen_whole, works_visible
from infra.finance.models import Allocation, Disbursement
from infra.kept import Kept
from infra.maintenance.models import Inspection, Record, Schedule
from infra.money import format_share
from infra.works.features import COUNTS
from infra.works.models import DocumentKind, StageEvent, Work, WorkDocument, WorkFeature

__all__ = [
    "WorkFilters",
    "document_get_visible",
    "commune_for_geometry",
    "province_area",
    "province_area_kept",
    "work_detail_context",
    "work_feature",
    "work_get_visible",
    "works_geojson",
    "works_layer",
    "works_count",
    "works_in_box",
    "works_match",
    "works_matching",
    "works_page",
    "works_visible_to",
]

WORKS = Work._meta.db_table
UNITS = AdminUnit._meta.db_table
# On PostGIS the works' table keeps each name and code folded for search, with trigram indexes (works 0007).
SEARCH_COLUMNS = {"name": "search_name", "code": "search_code"}
ALLOCATIONS = Allocation._meta.db_table
DISBURSEMENTS = Disbursement._meta.db_table
RECORDS = Record._meta.db_table
# Each work's bounding box as a PostgreSQL box, with its GiST index (PostGIS only: works migration 0006).
EXTENT = "extent"


_KEPT_AREA: ContextVar[list | None] = ContextVar("kept_province_area", default=None)


@contextmanager
def province_area_kept() -> Iterator[None]:
    """Within the block, `province_area` reads the outline once and gives the same object after: for
    checking the many rows of one import against one outline (its prepared form is kept with it)."""
    token = _KEPT_AREA.set([])
    try:
        yield
    finally:
        _KEPT_AREA.reset(token)


def province_area() -> GEOSGeometry | None:
    """Return the province outline works must lie in, or None before reference data is loaded."""
    kept = _KEPT_AREA.get()
    if kept:
        return kept[0]
    province = (
        AdminUnit.objects.filter(level=AdminUnitLevel.PROVINCE, code=settings.PROVINCE_CODE, valid_to__isnull=True)
        .only("boundary")
        .first()
    )
    area = province.boundary if province and province.boundary else None
    if kept is not None:
        kept.append(area)
    return area


def commune_for_geometry(*, geometry: GEOSGeometry) -> AdminUnit | None:
    """Return today's commune that holds the geometry (by a point on it), or None."""
    # A line or polygon may cross a boundary; the point on its surface decides, as a surveyor would.
    anchor = geometry.point_on_surface
    anchor.srid = geometry.srid
    return (
        AdminUnit.objects.current()
        .filter(level=AdminUnitLevel.COMMUNE, boundary__contains=anchor)
        .order_by("code")
        .first()
    )


def works_visible_to(*, user) -> QuerySet[Work]:
    """Return the works a person may see (the access policy decides)."""
    return works_visible(user)


@dataclass(frozen=True)
class WorkFilters:
    """What a map or API request narrows the works to; empty fields do not narrow."""

    categories: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    year: int | None = None
    commune: AdminUnit | None = None
    source: str | None = None
    q: str = ""
    bbox: BBox | None = None
    # Plan years from and to (either end open): OGC's `datetime` (infra.ogc.collections).
    first_year: int | None = None
    last_year: int | None = None


# How many compiled statements are kept per process (_COMPILED, and the texts made from them).
COMPILED_MAX = 512
# Every filter but some, as a tuple read in one call (dataclasses.replace, to compare the rest, costs more than
# the rest of a page's policy). Made from the fields, so that a filter added later is in them.
_BUT_BOX = attrgetter(*(f.name for f in fields(WorkFilters) if f.name != "bbox"))
_BUT_COUNTED = attrgetter(*(f.name for f in fields(WorkFilters) if f.name not in ("categories", "stages")))
_NONE_BUT_COUNTED = _BUT_COUNTED(WorkFilters())


def commune_condition(unit: AdminUnit) -> Q:
    if unit.valid_to is None:
        return Q(current_commune=unit) | Q(approved_commune=unit)
    # A former commune has no geometry of its own: its works are those approved under it, and
    # those lying in the commune(s) it merged into that no other former commune claims.
    area = unit_area_ids(unit)
    unclaimed = Q(approved_commune__isnull=True) | Q(approved_commune__valid_to__isnull=True)
    return Q(approved_commune=unit) | (Q(current_commune_id__in=area) & unclaimed)


def works_matching(*, user, filters: WorkFilters) -> QuerySet[Work]:
    """Return the works the person may see that pass the filters."""
    works = Work.objects.all()
    if filters.categories:
        works = works.filter(category__in=filters.categories)
    if filters.stages:
        works = works.filter(stage__in=filters.stages)
    if filters.year is not None:
        works = works.filter(approved_year=filters.year)
    if filters.first_year is not None:
        works = works.filter(approved_year__gte=filters.first_year)
    if filters.last_year is not None:
        works = works.filter(approved_year__lte=filters.last_year)
    if filters.commune is not None:
        works = works.filter(commune_condition(filters.commune))
    if filters.source:
        funded = Allocation.objects.filter(work=OuterRef("pk"), capital_plan__source=filters.source)
        works = works.filter(Exists(funded))
    if filters.q:
        # Case and Vietnamese marks aside; on PostGIS from the folded texts the table keeps (works 0007).
        works = matching(works, filters.q, "name", "code", stored=SEARCH_COLUMNS if on_postgis() else None)
    if filters.bbox is not None:
        works = _in_box(works, filters.bbox)
    return works_visible(user, works)


_TABLE = f'"{WORKS}"'


_GEOMETRY = f'{_TABLE}."geometry"'


def _box_condition(bbox: BBox) -> tuple[str, list]:
    return bbox_condition(bbox, geometry=_GEOMETRY, table=WORKS, column="geometry", id=f'{_TABLE}."id"')


def _in_box(works: QuerySet[Work], bbox: BBox) -> QuerySet[Work]:
    return works.filter(RawSQL(*_box_condition(bbox), output_field=BooleanField()))


def works_count(*, user, filters: WorkFilters) -> tuple[str, tuple] | None:
    """Return SQL (and params) giving the exact number of `works_matching(user, filters)` from the counts
    the database keeps by category and stage (infra.works.features), or None where they cannot answer:
    off PostGIS, for a commune officer, or with a filter other than categories and stages."""
    if not on_postgis() or _BUT_COUNTED(filters) != _NONE_BUT_COUNTED:
        return None
    stages = stages_seen_whole(user)
    if stages is None:
        return None
    return _count_sql(stages, filters.stages, filters.categories)


@lru_cache(maxsize=COMPILED_MAX)
def _count_sql(seen: tuple[str, ...], stages: tuple, categories: tuple) -> tuple[str, tuple]:
    """works_count's statement for the stages a person sees whole and the filters' stages and categories, written
    once per such key, its words in its text (sql_with_words)."""
    if stages:
        seen = tuple(stage for stage in seen if stage in stages)
    conditions, params = [f"stage IN ({', '.join(['%s'] * len(seen))})" if seen else "false"], list(seen)
    if categories:
        conditions.append(f"category IN ({', '.join(['%s'] * len(categories))})")
        params += list(categories)
    return sql_with_words(f"SELECT COALESCE(sum(n), 0)::bigint FROM {COUNTS} WHERE {' AND '.join(conditions)}",
                          [p.value if isinstance(p, Enum) else p for p in params])


def works_in_box(works: QuerySet[Work], bbox: BBox | None) -> tuple[tuple[str, Any], tuple[str, Any] | None]:
    """Return the ids of `works` (a queryset not yet narrowed to a box) that intersect the box, as
    feature_page's `match` and `count_match`: the second, on PostGIS, is the same ids in two parts
    that count from the index of the works' extents alone (gis.layers.bbox_parts), or None."""
    if bbox is None:
        return works_match(works), None
    return _box_match(_split(works) or works, bbox)


def _box_match(works: QuerySet[Work] | Split, bbox: BBox) -> tuple[tuple[str, Any], tuple[str, Any] | None]:
    if isinstance(works, Split) and on_postgis():
        match, count = _box_templates(works, wide=box_is_wide(bbox))
        numbers = box_numbers(bbox)
        return (match.format(*numbers), list(works.params)), (count.format(*numbers), [*works.params, *works.params])
    conditions = [_box_condition(bbox)]
    if on_postgis():
        conditions += bbox_parts(bbox, table=WORKS, outer=_TABLE, extent=EXTENT, geometry="geometry")
    match, *parts = _each_condition(works, conditions)
    if not parts:
        return match, None
    return match, (" UNION ALL ".join(f"({sql})" for sql, _params in parts), [p for _sql, params in parts for p in params])


@lru_cache(maxsize=2 * COMPILED_MAX)
def _box_templates(split: Split, *, wide: bool) -> tuple[str, str]:
    """What _box_match gives for a kept Split on PostGIS, the box's numbers as {0} to {7} (gis.layers.box_numbers):
    the match (the works' box condition where the split was cut) and the count's two parts (bbox_parts), written
    once per split and shape instead of put together on every page."""
    head, tail = (text.replace("{", "{{").replace("}", "}}") for text in (split.head, split.tail))
    inner, crossing = parts_template(WORKS, _TABLE, EXTENT, "geometry", wide=wide)
    return (f"{head}{intersects_template(_GEOMETRY)}{tail}",
            " UNION ALL ".join(f"({head}{part}{tail})" for part in (inner, crossing)))


_LAST_CONDITION = "works_condition_goes_here"


@dataclass(frozen=True)
class Split:
    """A compiled match statement cut where a condition added last goes: the last thing that takes parameters."""

    head: str
    tail: str
    params: tuple

    def join(self, condition: str, params: list) -> tuple[str, list]:
        return f"{self.head}{condition}{self.tail}", [*self.params, *params]


def _split(works: QuerySet[Work]) -> Split | None:
    """Compile works_match of `works` once, with a marker for a condition yet to come; None when the
    marker is not where one condition's text and parameters can simply be put in."""
    sql, params = works_match(works.filter(RawSQL(_LAST_CONDITION, [], output_field=BooleanField())))
    head, found, tail = sql.partition(_LAST_CONDITION)
    if not found or _LAST_CONDITION in tail or "%s" in tail:
        return None
    # The stages arrive as Stage members: as plain strings (the same text) they are written into the head once
    # on PostgreSQL, instead of quoted by the driver on every page.
    head, params = sql_with_words(head, [p.value if isinstance(p, Enum) else p for p in params])
    return Split(head, tail, params)


def _each_condition(works: QuerySet[Work] | Split, conditions: list[tuple[str, list]]) -> list[tuple[str, list]]:
    """Return works_match of `works` narrowed by each condition (SQL, params), compiling the queryset once."""
    split = works if isinstance(works, Split) else _split(works)
    if split is None:
        return [works_match(works.filter(RawSQL(c, p, output_field=BooleanField()))) for c, p in conditions]
    return [split.join(condition, condition_params) for condition, condition_params in conditions]


# Match statements compiled once per process. A person whose visibility is a set of stages
# (policy.stages_seen_whole: the public, the board, planners, auditors) gets the same statement as
# anyone else with that set and the same filters, so it is kept by both. Filters that look rows up
# when compiled (a commune's area), or that carry free text, are compiled for each request.
_COMPILED: Kept[tuple, tuple[str, Any] | Split] = Kept(COMPILED_MAX)


def _page_match(user, filters: WorkFilters) -> tuple[tuple[str, Any], tuple[str, Any] | None]:
    """works_in_box of what `user` may see through `filters`, compiled at most once per kept key."""
    key = None
    if filters.commune is None and not filters.source and not filters.q:
        seen = stages_seen_whole(user)
        if seen is not None:
            key = (on_postgis(), seen, _BUT_BOX(filters), filters.bbox is None)
    compiled = _COMPILED.get(key) if key is not None else None
    if compiled is None:
        works = works_matching(user=user, filters=replace(filters, bbox=None))
        if key is None:
            return works_in_box(works, filters.bbox)
        compiled = works_match(works) if filters.bbox is None else _split(works)
        if compiled is None:
            return works_in_box(works, filters.bbox)
        _COMPILED.keep(key, compiled)
    if filters.bbox is None:
        return compiled, None
    return _box_match(compiled, filters.bbox)


def _signed(alias: str) -> str:
    # A reversal row subtracts what it reverses (finance keeps figures, never edits them away).
    return f"CASE WHEN {alias}.reverses_id IS NULL THEN {alias}.amount ELSE -{alias}.amount END"


_ALLOCATED = f"(SELECT COALESCE(SUM({_signed('a')}), 0) FROM {ALLOCATIONS} a WHERE a.work_id = t.id)"
_DISBURSED = (
    f"(SELECT COALESCE(SUM({_signed('d')}), 0) FROM {DISBURSEMENTS} d "
    f"JOIN {ALLOCATIONS} a ON a.id = d.allocation_id WHERE a.work_id = t.id)"
)
_LAST_MAINTENANCE = f"(SELECT MAX(r.done_on) FROM {RECORDS} r WHERE r.work_id = t.id)"


@cache
def works_layer(*, detail: bool = False, internal: bool = False) -> Layer:
    """Return how works are listed (`detail`: the one-work record; `internal`: with internal notes). Made once
    per pair of arguments: every page of works reads it, and a Layer is not changed (dataclasses.replace
    makes another)."""
    properties = {
        "code": "t.code", "name": "t.name", "category": "t.category", "stage": "t.stage", "progress": "t.progress",
        "year": "t.approved_year", "commune_code": "c.code", "commune": "c.name", "approved_commune": "ac.name",
        "road_surface": "t.road_surface", "all_season": json_bool("t.all_season"),
        "total_investment": "t.total_investment", "allocated": _ALLOCATED, "disbursed": _DISBURSED,
        "last_maintenance": _LAST_MAINTENANCE, "is_demo": json_bool("t.is_demo"),
    }
    if detail:
        served = Work.villages_served.through._meta.db_table
        properties.update({
            "description": "t.description", "road_class": "t.road_class", "school_level": "t.school_level",
            "water_source": "t.water_source", "special_mechanism": json_bool("t.special_mechanism"),
            "beneficiary_households": "t.beneficiary_households",
            "beneficiary_poor_households": "t.beneficiary_poor_households", "beneficiary_women": "t.beneficiary_women",
            "planned_start": "t.planned_start", "planned_end": "t.planned_end", "actual_start": "t.actual_start",
            "actual_end": "t.actual_end", "approved_commune_code": "ac.code", "approved_commune_valid_to": "ac.valid_to",
            "villages_served": json_subarray(
                "v.code", f"FROM {served} s JOIN {Village._meta.db_table} v ON v.id = s.village_id WHERE s.work_id = t.id"
            ),
        })
        if internal:
            properties["internal_notes"] = "t.internal_notes"
    return Layer(
        table=WORKS,
        spatial_index="geometry",
        properties=properties,
        joins=f"LEFT JOIN {UNITS} c ON c.id = t.current_commune_id LEFT JOIN {UNITS} ac ON ac.id = t.approved_commune_id",
        # The listed feature is the same for everyone, so the database keeps it (infra.works.features).
        stored="" if detail else WorkFeature._meta.db_table,
    )


def works_match(works: QuerySet[Work]) -> tuple[str, Any]:
    """Return the SQL and params selecting the ids of a queryset, unordered."""
    return works.order_by().values("id").query.sql_with_params()


def works_page(*, user, filters: WorkFilters, limit: int, offset: int = 0, zoom: int | None = None,
               raw: bool = False) -> Page:
    """Return one page of the works the person may see that pass the filters, as GeoJSON built in the database.

    `raw`: the text as UTF-8 bytes (gis.layers.feature_page)."""
    match, count_match = _page_match(user, filters)
    precision = _precision_for_zoom(zoom) if zoom is not None else 6
    return feature_page(works_layer(), match=match, count_match=count_match, limit=limit, offset=offset,
                        precision=precision, raw=raw, exact_count=works_count(user=user, filters=filters),
                        prepare=filters.bbox is None and not filters.q,
                        count_cap=box_count_cap(limit) if count_match is not None else COUNT_CAP)


BOX_COUNT_MAX = 100_000


def box_count_cap(limit: int) -> int:
    """How many works matching a box a page counts, from the extents' index alone (bbox_parts), before it
    stops: ten pages' worth, at least COUNT_CAP and at most BOX_COUNT_MAX. Up to the cap the page is cut
    from the ids counted and `numberMatched` is stated; past it the page walks the works in id order,
    testing each against the box, which reads a table page per work visited. For a page of 10,000 in
    a province-sized box (33,802 works of 1,000,000) counting them all is 90 ms a page against 205 ms
    walking; a country-sized box past the cap pays about 24 ms more for the count (docs/benchmarks.md)."""
    return max(COUNT_CAP, min(10 * int(limit), BOX_COUNT_MAX))


def works_geojson(*, user, works: QuerySet[Work] | None = None) -> str:
    """Return the works the person may see as a GeoJSON FeatureCollection built in the database."""
    # The policy's queryset is the match query, so the map shows exactly what the policy allows.
    return feature_collection(works_layer(), match=works_match(works_visible(user, works)))


def work_get_visible(*, user, pk: int) -> Work:
    """Return the work if the person may see it; raise Work.DoesNotExist otherwise."""
    return works_visible(user).select_related("current_commune", "approved_commune", "contractor").get(pk=pk)


def document_get_visible(*, user, documents: QuerySet[WorkDocument]) -> WorkDocument | None:
    """Return the first of `documents` the person may read, or None: a public one of a work they may see, or any of a
    work whose internal facts they may read (the rule work_detail_context lists documents by)."""
    found = (documents.select_related("work").filter(work__in=works_visible(user))
             .only("file", "is_public", "title", "work__stage", "work__current_commune_id", "work__approved_commune_id")
             .first())
    if found is None or not (found.is_public or sees_internal(user, found.work)):
        return None
    return found


DETAIL_PRECISION = 9


def work_feature(*, user, pk: int) -> str | None:
    """Return one work as a GeoJSON Feature, with internal notes only for those who may read them."""
    try:
        work = works_visible(user).only("id", "current_commune_id", "approved_commune_id").get(pk=pk)
    except Work.DoesNotExist:
        return None
    layer = works_layer(detail=True, internal=sees_internal(user, work))
    # The record itself: enough decimals that a geometry read back equals the one written (to 1e-7°).
    return feature(layer, where="t.id = %s", params=[work.pk], precision=DETAIL_PRECISION)


def work_detail_context(*, user, work: Work) -> dict[str, Any]:
    """Return what the work's page shows: stages, money, maintenance, documents, as the person may see them."""
    internal = sees_internal(user, work)
    allocations = list(
        Allocation.objects.filter(work=work).select_related("capital_plan__decision", "programme_line")
        .order_by("allocated_on", "id")
    )
    disbursements = list(
        Disbursement.objects.filter(allocation__work=work).select_related("allocation").order_by("paid_on", "id")
    )
    allocated = sum(a.signed_amount for a in allocations)
    disbursed = sum(d.signed_amount for d in disbursements)
    documents = WorkDocument.objects.filter(work=work).order_by("-uploaded_at")
    if not internal:
        documents = documents.filter(is_public=True)
    documents = list(documents)
    return {
        "internal": internal,
        "events": list(StageEvent.objects.filter(work=work).order_by("occurred_on", "id")),
        "investors": list(work.investors.select_related("organisation").order_by("valid_from")),
        "villages": list(work.villages_served.select_related("commune").order_by("name")),
        "allocations": allocations,
        "disbursements": disbursements,
        "money": {
            "investment": work.total_investment,
            "allocated": allocated,
            "disbursed": disbursed,
            "remaining": allocated - disbursed,
            "disbursed_share": format_share(disbursed, allocated),
        },
        "schedules": list(Schedule.objects.filter(work=work).order_by("task_kind", "id")),
        "inspections": list(Inspection.objects.filter(work=work).order_by("-inspected_on", "-id")),
        "records": list(Record.objects.filter(work=work).order_by("-done_on", "-id")),
        "photos": [d for d in documents if d.kind == DocumentKind.PHOTO],
        "documents": [d for d in documents if d.kind != DocumentKind.PHOTO],
    }
