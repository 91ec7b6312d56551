"""Layers of the reference geography, as GeoJSON built in the database."""
from __future__ import annotations

from datetime import date

from gis.layers import Layer, feature_collection, json_bool
from gis.models import AdminUnit, AdminUnitLevel, BaseRoad, Village


def communes_geojson(*, on: date | None = None) -> str:
    """Return the commune boundaries in force on a day (today by default)."""
    day = on or date.today()
    layer = Layer(
        table=AdminUnit._meta.db_table,
        geometry="t.boundary",
        properties={"code": "t.code", "name": "t.name", "unit_type": "t.unit_type", "population": "t.population",
                    "especially_difficult": json_bool("t.especially_difficult")},
    )
    return feature_collection(
        layer,
        where="t.level = %s AND t.boundary IS NOT NULL AND (t.valid_from IS NULL OR t.valid_from <= %s) "
              "AND (t.valid_to IS NULL OR t.valid_to >= %s)",
        params=[AdminUnitLevel.COMMUNE, day.isoformat(), day.isoformat()],
        precision=5,
    )


def districts_geojson() -> str:
    """Return the pre-2025 district outlines that have an open geometry."""
    layer = Layer(
        table=AdminUnit._meta.db_table,
        geometry="t.boundary",
        properties={"code": "t.code", "name": "t.name", "unit_type": "t.unit_type", "valid_to": "t.valid_to"},
    )
    return feature_collection(layer, where="t.level = %s AND t.boundary IS NOT NULL", params=[AdminUnitLevel.DISTRICT], precision=5)


def centres_geojson() -> str:
    """Return today's commune centres."""
    layer = Layer(
        table=AdminUnit._meta.db_table,
        geometry="t.centre",
        properties={"code": "t.code", "name": "t.name", "unit_type": "t.unit_type", "address": "t.centre_address"},
    )
    return feature_collection(
        layer, where="t.level = %s AND t.centre IS NOT NULL AND t.valid_to IS NULL", params=[AdminUnitLevel.COMMUNE]
    )


def villages_geojson() -> str:
    """Return the villages with their people."""
    layer = Layer(
        table=Village._meta.db_table,
        geometry="t.location",
        properties={"code": "t.code", "name": "t.name", "commune": "c.name", "population": "t.population",
                    "poor_households": "t.poor_households", "households": "t.households", "is_demo": json_bool("t.is_demo")},
        joins=f"JOIN {AdminUnit._meta.db_table} c ON c.id = t.commune_id",
    )
    return feature_collection(layer)


def roads_geojson() -> str:
    """Return the base roads (not built by the programme)."""
    layer = Layer(
        table=BaseRoad._meta.db_table,
        properties={"code": "t.code", "name": "t.name", "road_class": "t.road_class", "surface": "t.surface",
                    "all_season": json_bool("t.all_season"), "is_demo": json_bool("t.is_demo")},
    )
    return feature_collection(layer)
