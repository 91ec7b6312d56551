"""The reference layers of the GeoPackage: communes of both vintages, villages, roads, village links.

Communes in force today carry their boundaries (`communes_2025`). Pre-2025 communes have no open
boundary (fixtures/SOURCES.md), so `communes_pre2025` is an attribute-only table (a GeoPackage
"attributes" table), each row naming the commune(s) it merged into. Reference layers are never
narrowed by the export's filters: they are the map the works sit on.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gis.models import AdminUnit, AdminUnitLevel, AdminUnitSuccession, BaseRoad, Village
from infra.interchange.columns import BOOL, DATE, FLOAT, INT, TEXT
from infra.interchange.sql import geometry_sql, iter_rows, postgis

__all__ = ["reference_layers"]

UNITS = AdminUnit._meta.db_table
VILLAGES = Village._meta.db_table
ROADS = BaseRoad._meta.db_table
SUCCESSIONS = AdminUnitSuccession._meta.db_table


def _successors() -> str:
    # The successors' codes, comma-separated (sorted), for each former unit `u`.
    if postgis():
        return (f"(SELECT string_agg(s.code, ',' ORDER BY s.code) FROM {SUCCESSIONS} x JOIN {UNITS} s "
                "ON s.id = x.successor_id WHERE x.predecessor_id = u.id)")
    return (f"(SELECT group_concat(code, ',') FROM (SELECT s.code AS code FROM {SUCCESSIONS} x JOIN {UNITS} s "
            "ON s.id = x.successor_id WHERE x.predecessor_id = u.id ORDER BY s.code))")


def _layers() -> list[tuple[str, str, list[tuple[str, str, str]], str, str]]:
    """(layer, OGC type, [(field, kind, SQL)], FROM … WHERE …, geometry SQL or '')."""
    commune = AdminUnitLevel.COMMUNE
    if postgis():
        link = "ST_MakeLine(v.location, c.centre)"
        distance = "round(ST_Distance(v.location::geography, c.centre::geography))"
    else:
        link = "MakeLine(v.location, c.centre)"
        distance = "round(ST_Distance(v.location, c.centre, 1))"
    unit_fields = [("code", TEXT, "u.code"), ("name", TEXT, "u.name"), ("unit_type", TEXT, "u.unit_type"),
                   ("valid_from", DATE, "u.valid_from"), ("valid_to", DATE, "u.valid_to"),
                   ("population", INT, "u.population"), ("poor_households", INT, "u.poor_households"),
                   ("especially_difficult", BOOL, "u.especially_difficult"), ("border", BOOL, "u.border")]
    return [
        ("communes_2025", "MULTIPOLYGON", unit_fields + [("centre_address", TEXT, "u.centre_address")],
         f"FROM {UNITS} u WHERE u.level = '{commune}' AND u.valid_to IS NULL AND u.boundary IS NOT NULL",
         geometry_sql("wkt", "u.boundary")),
        ("communes_pre2025", "NONE", unit_fields + [("successors", TEXT, _successors())],
         f"FROM {UNITS} u WHERE u.level = '{commune}' AND u.valid_to IS NOT NULL", ""),
        ("villages", "POINT",
         [("code", TEXT, "v.code"), ("name", TEXT, "v.name"), ("commune_code", TEXT, "c.code"), ("commune", TEXT, "c.name"),
          ("population", INT, "v.population"), ("households", INT, "v.households"),
          ("poor_households", INT, "v.poor_households"), ("is_demo", BOOL, "v.is_demo")],
         f"FROM {VILLAGES} v JOIN {UNITS} c ON c.id = v.commune_id", geometry_sql("wkt", "v.location")),
        ("roads", "MULTILINESTRING",
         [("code", TEXT, "r.code"), ("name", TEXT, "r.name"), ("road_class", TEXT, "r.road_class"),
          ("surface", TEXT, "r.surface"), ("all_season", BOOL, "r.all_season"), ("is_demo", BOOL, "r.is_demo")],
         f"FROM {ROADS} r", geometry_sql("wkt", "r.geometry")),
        # A straight line from each village to its commune's centre: the question "is it connected?".
        ("village_links", "LINESTRING",
         [("village_code", TEXT, "v.code"), ("village", TEXT, "v.name"), ("commune_code", TEXT, "c.code"),
          ("population", INT, "v.population"), ("poor_households", INT, "v.poor_households"),
          ("distance_m", FLOAT, distance), ("status", TEXT, "'unknown'"), ("is_demo", BOOL, "v.is_demo")],
         f"FROM {VILLAGES} v JOIN {UNITS} c ON c.id = v.commune_id AND c.centre IS NOT NULL",
         geometry_sql("wkt", link)),
    ]


def reference_layers(folder: Path, *, layer_csv: Callable[..., int]) -> list[tuple[Path, str, str, int]]:
    """Write each reference layer as a CSV for ogr2ogr; return (csv, layer, OGC type or NONE, count)."""
    written = []
    for layer, geom_type, fields, from_sql, geometry in _layers():
        select = [sql for _name, _kind, sql in fields] + ([geometry] if geometry else [])
        rows = iter_rows(f"SELECT {', '.join(select)} {from_sql}", [])
        path = folder / f"{layer}.csv"
        count = layer_csv(path, [f[0] for f in fields], [f[1] for f in fields], rows, geometry=bool(geometry))
        written.append((path, layer, geom_type, count))
    return written
