"""GeoJSON FeatureCollections built inside the database, on PostGIS and SpatiaLite alike.

The whole collection is one SQL statement returning one text value, so a thousand features cost
the database's time, not a thousand rounds of Python serialisation (docs/PERFORMANCE).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

__all__ = ["Layer", "feature_collection", "json_bool"]


@dataclass(frozen=True)
class Layer:
    """How to read one layer: a table, its id and geometry columns, and property expressions.

    `properties` maps an output name to a SQL expression over the table aliased `t`; names and
    expressions are written by developers, never taken from requests. Values from requests go in
    `params` only.
    """

    table: str
    properties: dict[str, str]
    geometry: str = "t.geometry"
    id: str = "t.id"
    joins: str = ""


def json_bool(column: str) -> str:
    """Return a SQL expression giving a boolean column as JSON true/false on either database."""
    # SQLite stores booleans as 0/1, which json_object would write as numbers.
    if connection.vendor == "postgresql":
        return column
    return f"json(CASE WHEN {column} THEN 'true' ELSE 'false' END)"


def _postgis_sql(layer: Layer, where: str, limit: str, precision: int) -> str:
    props = ", ".join(f"'{name}', {expr}" for name, expr in layer.properties.items())
    return (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "
        "COALESCE(json_agg(json_build_object('type', 'Feature', 'id', f.id, "
        "'geometry', ST_AsGeoJSON(f.geom, %(precision)d)::json, 'properties', f.props)), '[]'::json))::text "
        "FROM (SELECT %(id)s AS id, %(geom)s AS geom, json_build_object(%(props)s) AS props "
        "FROM %(table)s t %(joins)s %(where)s ORDER BY %(id)s %(limit)s) f"
    ) % {"precision": precision, "id": layer.id, "geom": layer.geometry, "props": props, "table": layer.table,
         "joins": layer.joins, "where": where, "limit": limit}


def _spatialite_sql(layer: Layer, where: str, limit: str, precision: int) -> str:
    props = ", ".join(f"'{name}', {expr}" for name, expr in layer.properties.items())
    return (
        "SELECT json_object('type', 'FeatureCollection', 'features', "
        "json(COALESCE(json_group_array(json_object('type', 'Feature', 'id', f.id, "
        "'geometry', json(AsGeoJSON(f.geom, %(precision)d)), 'properties', json(f.props))), '[]'))) "
        "FROM (SELECT %(id)s AS id, %(geom)s AS geom, json_object(%(props)s) AS props "
        "FROM %(table)s t %(joins)s %(where)s ORDER BY %(id)s %(limit)s) f"
    ) % {"precision": precision, "id": layer.id, "geom": layer.geometry, "props": props, "table": layer.table,
         "joins": layer.joins, "where": where, "limit": limit}


def feature_collection(
    layer: Layer, *, where: str = "", params: Sequence = (), limit: int | None = None, precision: int = 6
) -> str:
    """Return the layer's rows matching `where` (SQL with %s placeholders) as GeoJSON text."""
    where_sql = f"WHERE {where}" if where else ""
    limit_sql = f"LIMIT {int(limit)}" if limit is not None else ""
    builder = _postgis_sql if connection.vendor == "postgresql" else _spatialite_sql
    sql = builder(layer, where_sql, limit_sql, precision)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        (text,) = cursor.fetchone()
    return text
