"""OpenAPI descriptions of the GeoJSON the database builds (the responses never pass a serializer)."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

__all__ = [
    "ADMIN_UNIT_PROPERTIES",
    "ERROR",
    "LINK_PROPERTIES",
    "NOT_FOUND",
    "VILLAGE_PROPERTIES",
    "WORK_DETAIL_PROPERTIES",
    "WORK_PROPERTIES",
    "collection",
    "feature",
    "path_ids_positive",
]

_STR = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}


def _nullable(schema: dict, description: Any = None) -> dict:
    result = {**schema, "nullable": True}
    if description:
        result["description"] = description
    return result


def _described(schema: dict, description: Any) -> dict:
    return {**schema, "description": description}


_DATE = {"type": "string", "format": "date"}
_VND = {"type": "integer", "format": "int64"}

GEOMETRY = {
    "type": "object",
    "nullable": True,
    "description": _("GeoJSON geometry in WGS84 longitude/latitude (RFC 7946); null when the row has none."),
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                            "MultiPolygon", "GeometryCollection"]},
        "coordinates": {"type": "array", "items": {}},
    },
}

LINK = {
    "type": "object",
    "properties": {"href": {"type": "string", "format": "uri"}, "rel": {"type": "string", "enum": ["self", "next", "prev"]},
                   "type": _STR},
}

WORK_PROPERTIES: dict[str, dict] = {
    "code": _STR,
    "name": _STR,
    "category": _described(
        _STR, _("Category code: health, school, water, irrigation, road, bridge, electricity, culture, other.")),
    "stage": _described(_STR, _("Stage code, from proposed to in_operation, or suspended / cancelled.")),
    "progress": _described(_INT, _("Progress in per cent (0–100).")),
    "year": _described(_INT, _("Plan year.")),
    "commune_code": _nullable(_STR, _("Code of today's commune holding the work.")),
    "commune": _nullable(_STR, _("Name of today's commune holding the work.")),
    "approved_commune": _nullable(_STR, _("Name of the commune the work was approved under.")),
    "road_surface": _described(
        _STR, _("Road surface for roads (asphalt, concrete, cement, gravel, earth, unknown); empty otherwise.")),
    "all_season": _nullable(_BOOL, _("Whether a road is passable all year; null when not recorded.")),
    "total_investment": _described(_VND, _("Approved total investment, VND.")),
    "allocated": _described(_VND, _("Capital allocated to the work (the capital plan), VND, net of reversals.")),
    "disbursed": _described(_VND, _("Money paid out for the work, VND, net of reversals.")),
    "last_maintenance": _nullable(_DATE, _("Date of the last maintenance work recorded.")),
    "is_demo": _described(_BOOL, _("Synthetic demo data, not a real record.")),
}

WORK_DETAIL_PROPERTIES: dict[str, dict] = {
    **WORK_PROPERTIES,
    "description": _STR,
    "road_class": _STR,
    "school_level": _STR,
    "water_source": _STR,
    "special_mechanism": _described(_BOOL, _("Small work under the special mechanism of Decree 27/2022/NĐ-CP.")),
    "beneficiary_households": _INT,
    "beneficiary_poor_households": _INT,
    "beneficiary_women": _INT,
    "planned_start": _nullable(_DATE),
    "planned_end": _nullable(_DATE),
    "actual_start": _nullable(_DATE),
    "actual_end": _nullable(_DATE),
    "approved_commune_code": _nullable(_STR),
    "approved_commune_valid_to": _nullable(_DATE, _("Last day the approving commune was in force; null if it still is.")),
    "villages_served": {"type": "array", "items": _STR, "description": _("Codes of the villages the work serves.")},
    "internal_notes": _described(_STR, _("Only for people who may read internal notes of this work; absent otherwise.")),
}

ADMIN_UNIT_PROPERTIES: dict[str, dict] = {
    "code": _STR,
    "name": _STR,
    "level": _described(_STR, _("province, district or commune.")),
    "unit_type": _described(_STR, _("Xã, Phường, Huyện, Tỉnh…")),
    "valid_from": _nullable(_DATE),
    "valid_to": _nullable(_DATE, _("Last day in force; null for units in force today.")),
    "parent_code": _nullable(_STR),
    "population": _nullable(_INT),
    "poor_households": _nullable(_INT),
    "near_poor_households": _nullable(_INT),
    "especially_difficult": _BOOL,
    "border": _BOOL,
    "centre_address": _STR,
    "successors": {"type": "array", "items": _STR, "description": _("Codes of the units this one merged into.")},
}

VILLAGE_PROPERTIES: dict[str, dict] = {
    "code": _STR,
    "name": _STR,
    "commune_code": _STR,
    "commune": _STR,
    "population": _INT,
    "households": _INT,
    "poor_households": _INT,
    "near_poor_households": _INT,
    "is_demo": _BOOL,
}

LINK_PROPERTIES: dict[str, dict] = {
    "village_code": _STR,
    "village": _STR,
    "commune_code": _STR,
    "commune": _STR,
    "population": _INT,
    "poor_households": _INT,
    "distance_m": _described(_INT, _("Straight-line distance from the village to the commune centre, metres.")),
    "status": {"type": "string", "enum": ["hardened", "unhardened", "none", "unknown"],
               "description": _("How the village is connected to its commune centre: by a hardened road, by an "
                                "unhardened road, not at all, or unknown (not yet analysed).")},
    "is_demo": _BOOL,
}


def feature(properties: dict[str, dict]) -> dict:
    """Return the schema of a Feature with these properties."""
    optional = {"internal_notes"}
    return {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _INT,
            "geometry": GEOMETRY,
            "properties": {"type": "object", "required": [n for n in properties if n not in optional],
                           "properties": properties},
        },
    }


def collection(properties: dict[str, dict]) -> dict:
    """Return the schema of a paged FeatureCollection of Features with these properties."""
    return {
        "type": "object",
        "required": ["type", "features", "numberReturned", "links"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "numberMatched": _described(_INT, _("How many features match, counted exactly up to 10000; absent "
                                                "when more match (page on with the next link).")),
            "numberReturned": _described(_INT, _("How many features this page holds.")),
            "links": {"type": "array", "items": LINK,
                      "description": _("This page and, where they exist, the next and previous.")},
            "features": {"type": "array", "items": feature(properties)},
        },
    }


ERROR = {
    "type": "object",
    "description": _("What was wrong with the request, by parameter name (non_field_errors for the request as a whole)."),
    # A body that cannot be parsed at all is answered with one "detail" message instead.
    "properties": {"detail": _STR},
    "additionalProperties": {"type": "array", "items": _STR},
    "example": {"bbox": ["bbox needs four numbers separated by commas: minlon,minlat,maxlon,maxlat."]},
}

NOT_FOUND = {"type": "object", "properties": {"detail": _STR}}

WRITTEN = {"type": "object", "properties": {"id": _INT, "version": _INT, "stage": _STR, "amount": _VND}}

# The writable fields of a work (infra.api.writes lists which each operation accepts).
WORK_WRITE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": _STR, "name": _STR, "category": _STR, "approved_year": _INT, "description": _STR, "internal_notes": _STR,
        "progress": {"type": "integer", "minimum": 0, "maximum": 100}, "planned_start": _DATE, "planned_end": _DATE,
        "actual_start": _DATE, "actual_end": _DATE, "total_investment": _VND, "beneficiary_households": _INT,
        "beneficiary_poor_households": _INT, "beneficiary_women": _INT, "special_mechanism": _BOOL, "school_level": _STR,
        "water_source": _STR, "road_class": _STR, "road_surface": _STR, "all_season": _nullable(_BOOL), "geometry": GEOMETRY,
        "version": _INT,
    },
}


def path_ids_positive(result, generator, request, public):
    """Postprocessing hook: ids in paths are positive whole numbers (the URL pattern matches no sign)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("schema", {}).get("type") == "integer":
                    parameter["schema"]["minimum"] = 1
    return result
