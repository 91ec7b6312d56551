"""Layers of the reference geography, as GeoJSON built in the database."""
from __future__ import annotations

from collections.abc import Collection
from datetime import date

from gis.layers import (
    BBox,
    Layer,
    Page,
    feature_collection,
    feature_page,
    json_bool,
    json_subarray,
    on_postgis,
    precision_for_zoom,
    tolerance_for_zoom,
)
from gis.models import AdminUnit, AdminUnitLevel, AdminUnitSuccession, BaseRoad, Village

__all__ = [
    "LINK_STATUSES",
    "admin_units_page",
    "centres_geojson",
    "commune_resolve",
    "communes_geojson",
    "districts_geojson",
    "roads_geojson",
    "unit_area_ids",
    "units_geojson",
    "village_links_geojson",
    "village_links_page",
    "villages_geojson",
    "villages_page",
]

UNITS = AdminUnit._meta.db_table
VILLAGES = Village._meta.db_table
SUCCESSIONS = AdminUnitSuccession._meta.db_table

# How a village is joined to its commune centre. Until the connectivity analysis stores its
# results every link is "unknown"; it will fill `status` through a join in `_link_layer`.
LINK_STATUSES = ("hardened", "unhardened", "none", "unknown")

_VALID_ON = "(t.valid_from IS NULL OR t.valid_from <= %s) AND (t.valid_to IS NULL OR t.valid_to >= %s)"


def commune_resolve(*, code: str, on: date | None = None) -> AdminUnit | None:
    """Return the commune with this code in force on a day (today by default), or None.

    Codes are reused after 1 July 2025, so a code names a unit only together with a date.
    """
    return (
        AdminUnit.objects.valid_on(on or date.today())
        .filter(level=AdminUnitLevel.COMMUNE, code=code)
        .order_by("-valid_from")
        .first()
    )


def unit_area_ids(unit: AdminUnit) -> list[int]:
    """Return the ids of the units whose geometry stands for this unit's area today.

    A current unit stands for itself; a former unit without a geometry of its own is
    represented by the unit(s) it merged into.
    """
    if unit.valid_to is None or unit.boundary is not None:
        return [unit.pk]
    return sorted(AdminUnitSuccession.objects.filter(predecessor=unit).values_list("successor_id", flat=True))


def _unit_layer(geometry: str) -> Layer:
    if geometry not in ("boundary", "centre"):
        raise ValueError(f"unknown geometry {geometry!r}")
    return Layer(
        table=UNITS,
        geometry=f"t.{geometry}",
        spatial_index=geometry,
        properties={
            "code": "t.code", "name": "t.name", "level": "t.level", "unit_type": "t.unit_type",
            "valid_from": "t.valid_from", "valid_to": "t.valid_to", "parent_code": "p.code",
            "population": "t.population", "poor_households": "t.poor_households",
            "near_poor_households": "t.near_poor_households",
            "especially_difficult": json_bool("t.especially_difficult"), "border": json_bool("t.border"),
            "centre_address": "t.centre_address",
            "successors": json_subarray("s.code", f"FROM {SUCCESSIONS} x JOIN {UNITS} s ON s.id = x.successor_id "
                                                  "WHERE x.predecessor_id = t.id"),
        },
        joins=f"LEFT JOIN {UNITS} p ON p.id = t.parent_id",
    )


def admin_units_page(
    *,
    limit: int,
    offset: int = 0,
    level: str | None = None,
    on: date | None = None,
    code: str | None = None,
    geometry: str = "boundary",
    bbox: BBox | None = None,
    zoom: int | None = None,
) -> Page:
    """Return administrative units in force on a day (today by default) as one page of GeoJSON.

    `geometry` is "boundary" or "centre"; units without that geometry come with a null one
    unless `bbox` is given. Boundaries are simplified to half a pixel at `zoom`.
    """
    day = (on or date.today()).isoformat()
    where, params = [_VALID_ON], [day, day]
    if level:
        where.append("t.level = %s")
        params.append(level)
    if code:
        where.append("t.code = %s")
        params.append(code)
    layer = _unit_layer(geometry)
    simplify = geometry == "boundary" and zoom is not None
    return feature_page(
        layer, limit=limit, offset=offset, where=" AND ".join(where), params=params, bbox=bbox,
        tolerance=tolerance_for_zoom(zoom) if simplify else None,
        precision=precision_for_zoom(zoom) if zoom is not None else 6,
    )


def units_geojson(*, ids: Collection[int], geometry: str = "boundary", precision: int = 6) -> str:
    """Return these administrative units with their boundaries (or centres)."""
    ids = [int(i) for i in ids]
    layer = _unit_layer(geometry)
    if not ids:
        return feature_collection(layer, where="1 = 0")
    return feature_collection(layer, where=f"t.id IN ({', '.join(['%s'] * len(ids))})", params=ids, precision=precision)


def communes_geojson(*, on: date | None = None) -> str:
    """Return the commune boundaries in force on a day (today by default)."""
    day = on or date.today()
    layer = Layer(
        table=UNITS,
        geometry="t.boundary",
        properties={"code": "t.code", "name": "t.name", "unit_type": "t.unit_type", "population": "t.population",
                    "poor_households": "t.poor_households", "especially_difficult": json_bool("t.especially_difficult")},
    )
    return feature_collection(
        layer,
        where=f"t.level = %s AND t.boundary IS NOT NULL AND {_VALID_ON}",
        params=[AdminUnitLevel.COMMUNE, day.isoformat(), day.isoformat()],
        precision=5,
    )


def districts_geojson() -> str:
    """Return the pre-2025 district outlines that have an open geometry."""
    layer = Layer(
        table=UNITS,
        geometry="t.boundary",
        properties={"code": "t.code", "name": "t.name", "unit_type": "t.unit_type", "valid_to": "t.valid_to"},
    )
    return feature_collection(layer, where="t.level = %s AND t.boundary IS NOT NULL", params=[AdminUnitLevel.DISTRICT],
                              precision=5)


def centres_geojson() -> str:
    """Return today's commune centres."""
    layer = Layer(
        table=UNITS,
        geometry="t.centre",
        properties={"code": "t.code", "name": "t.name", "unit_type": "t.unit_type", "address": "t.centre_address"},
    )
    return feature_collection(
        layer, where="t.level = %s AND t.centre IS NOT NULL AND t.valid_to IS NULL", params=[AdminUnitLevel.COMMUNE]
    )


def _village_layer() -> Layer:
    return Layer(
        table=VILLAGES,
        geometry="t.location",
        spatial_index="location",
        properties={"code": "t.code", "name": "t.name", "commune_code": "c.code", "commune": "c.name",
                    "population": "t.population", "households": "t.households", "poor_households": "t.poor_households",
                    "near_poor_households": "t.near_poor_households", "is_demo": json_bool("t.is_demo")},
        joins=f"JOIN {UNITS} c ON c.id = t.commune_id",
    )


def _commune_where(commune_ids: Collection[int] | None) -> tuple[str, list]:
    if commune_ids is None:
        return "", []
    ids = [int(i) for i in commune_ids]
    if not ids:
        return "1 = 0", []
    return f"t.commune_id IN ({', '.join(['%s'] * len(ids))})", ids


def villages_geojson() -> str:
    """Return the villages with their people."""
    return feature_collection(_village_layer())


def villages_page(*, limit: int, offset: int = 0, commune_ids: Collection[int] | None = None, bbox: BBox | None = None) -> Page:
    """Return one page of villages, optionally of some communes and inside a box."""
    where, params = _commune_where(commune_ids)
    return feature_page(_village_layer(), limit=limit, offset=offset, where=where, params=params, bbox=bbox)


def _link_layer(status: tuple[str, str] | None = None) -> Layer:
    """A straight line from each village to the centre of its commune.

    The line stands for the question "is this village connected to its commune centre?", not
    for a road. `status` is one of LINK_STATUSES; `distance_m` is the straight-line distance.
    The caller that knows the analysis results passes `status` as (join SQL, status expression);
    without it every link is "unknown" (gis cannot read those results itself).
    """
    status_join, status_sql = status or ("", "'unknown'")
    if on_postgis():
        line = "ST_MakeLine(t.location, c.centre)"
        distance = "round(ST_Distance(t.location::geography, c.centre::geography))::integer"
    else:
        line = "MakeLine(t.location, c.centre)"
        distance = "CAST(round(ST_Distance(t.location, c.centre, 1)) AS INTEGER)"
    return Layer(
        table=VILLAGES,
        geometry=line,
        properties={"village_code": "t.code", "village": "t.name", "commune_code": "c.code", "commune": "c.name",
                    "population": "t.population", "poor_households": "t.poor_households", "distance_m": distance,
                    "status": status_sql, "is_demo": json_bool("t.is_demo")},
        joins=f"JOIN {UNITS} c ON c.id = t.commune_id AND c.centre IS NOT NULL {status_join}",
    )


def village_links_geojson(*, status: tuple[str, str] | None = None) -> str:
    """Return every village's link to its commune centre."""
    return feature_collection(_link_layer(status))


def village_links_page(
    *, limit: int, offset: int = 0, commune_ids: Collection[int] | None = None, bbox: BBox | None = None,
    status: tuple[str, str] | None = None,
) -> Page:
    """Return one page of village ↔ commune-centre links."""
    where, params = _commune_where(commune_ids)
    return feature_page(_link_layer(status), limit=limit, offset=offset, where=where, params=params, bbox=bbox)


def roads_geojson() -> str:
    """Return the base roads (not built by the programme)."""
    layer = Layer(
        table=BaseRoad._meta.db_table,
        properties={"code": "t.code", "name": "t.name", "road_class": "t.road_class", "surface": "t.surface",
                    "all_season": json_bool("t.all_season"), "is_demo": json_bool("t.is_demo")},
    )
    return feature_collection(layer)
