"""Write a Dataset into the migrated tables with COPY (text format), and fingerprint what was written.

The four tables lose their secondary indexes, unique and foreign-key constraints for the COPY and
get them back afterwards (built once, not row by row); check constraints stay, so every row is
still checked (valid geometry of the right type, money, dates, households).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import shapely

from synthetic_country import CODE_PREFIX, SOURCE, Dataset

__all__ = ["TABLES", "digests", "load"]

TABLES = ("geo_adminunit", "geo_village", "geo_baseroad", "works_work")
FEATURES = "works_workfeature"  # derived from works_work by the database (infra.works.features)
NULL = "\\N"
CHUNK = 100_000
VALID_FROM = "2025-07-01"  # the current vintage
CREATED = "2026-01-01 08:00:00+07"  # fixed, so that the rows are the same on every run
DESCRIPTION = "Công trình giả lập cho đo hiệu năng toàn quốc (bench/national.py)"

# Extended WKB with SRID 4326 (what shapely.to_wkb(hex=True, include_srid=True) writes), built with
# numpy for the fixed-size shapes that make most rows: points, and multilinestrings of one segment.
_SRID_FLAG = 0x20000000
_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("xy", "<f8", 2)])
_SEGMENT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("parts", "<u4"), ("order1", "u1"),
                     ("type1", "<u4"), ("points", "<u4"), ("xy", "<f8", 4)])


def _hex(records: np.ndarray) -> list[str]:
    width = 2 * records.dtype.itemsize
    text = records.tobytes().hex().upper()
    return [text[i:i + width] for i in range(0, len(text), width)]


def _points(xy: np.ndarray) -> list[str]:
    records = np.zeros(len(xy), _POINT)
    records["order"], records["type"], records["srid"], records["xy"] = 1, 1 | _SRID_FLAG, 4326, xy
    return _hex(records)


def _segments(ends: np.ndarray) -> list[str]:
    records = np.zeros(len(ends), _SEGMENT)
    records["order"], records["type"], records["srid"], records["parts"] = 1, 5 | _SRID_FLAG, 4326, 1
    records["order1"], records["type1"], records["points"], records["xy"] = 1, 2, 2, ends
    return _hex(records)


def _shapes(geometries: np.ndarray) -> list[str]:
    return shapely.to_wkb(shapely.set_srid(geometries, 4326), hex=True, include_srid=True).tolist()


def _text(values: np.ndarray) -> list[str]:
    return values.tolist() if values.dtype.kind in "OU" else list(map(str, values.tolist()))


def _flags(values: np.ndarray) -> list[str]:
    return np.where(values, "t", "f").tolist()


def _dates(values: np.ndarray) -> list[str]:
    # A few thousand distinct days: print each once.
    days, position = np.unique(values, return_inverse=True)
    return np.where(np.isnat(days), NULL, days.astype(str))[position].tolist()


# (table, columns written per row, {column: the value it has on every row}, rows, text of the rows' columns for a slice)
_Spec = tuple[str, list[str], dict[str, str], int, Callable[[slice], list[list[str]]]]


def _specs(data: Dataset, base: dict[str, int]) -> list[_Spec]:
    """Each table's COPY: ids are the table's `base` plus the row's position plus one."""
    u, v, r, w = data.units, data.villages, data.roads, data.works
    unit_base, provinces = base["geo_adminunit"], data.counts["provinces"]
    commune_base = unit_base + provinces + 1
    source = f"{SOURCE}, seed {data.seed}"

    def ids(table: str, part: slice) -> list[str]:
        return _text(np.arange(part.start, part.stop) + base[table] + 1)

    def units(part: slice) -> list[list[str]]:
        parent = u["parent"][part]
        return [ids("geo_adminunit", part), _text(u["level"][part]), _text(u["code"][part]), _text(u["name"][part]),
                _text(u["unit_type"][part]), np.where(parent > 0, (parent + unit_base).astype(str), NULL).tolist(),
                _shapes(u["boundary"][part]), _points(u["centre"][part]), _text(u["centre_address"][part]),
                [f"{a:.2f}" for a in u["area_km2"][part].tolist()], _text(u["population"][part]),
                _text(u["poor_households"][part]), _text(u["near_poor_households"][part]),
                _flags(u["especially_difficult"][part]), _flags(u["border"][part])]

    def villages(part: slice) -> list[list[str]]:
        return [ids("geo_village", part), _text(v["code"][part]), _text(v["name"][part]),
                _text(v["commune"][part] + commune_base), _points(v["location"][part]), _text(v["population"][part]),
                _text(v["households"][part]), _text(v["poor_households"][part]), _text(v["near_poor_households"][part])]

    def roads(part: slice) -> list[list[str]]:
        return [ids("geo_baseroad", part), _text(r["code"][part]), _text(r["name"][part]), _text(r["road_class"][part]),
                _text(r["surface"][part]), _flags(r["all_season"][part]), _segments(r["ends"][part])]

    def works(part: slice) -> list[list[str]]:
        shape = w["shape"][part]
        geometry = np.array(_points(w["position"][part]), object)
        extended = shape != None  # noqa: E711 (elementwise)
        if extended.any():
            geometry[extended] = _shapes(shape[extended])
        return [ids("works_work", part), _text(w["code"][part]), _text(w["name"][part]), _text(w["category"][part]),
                _text(w["school_level"][part]), _text(w["water_source"][part]), _text(w["road_class"][part]),
                _text(w["road_surface"][part]),
                np.where(w["all_season_known"][part], _flags(w["all_season"][part]), NULL).tolist(), geometry.tolist(),
                _text(w["commune"][part] + commune_base), _text(w["beneficiary_households"][part]),
                _text(w["beneficiary_poor_households"][part]), _text(w["beneficiary_women"][part]),
                _flags(w["special_mechanism"][part]), _text(w["approved_year"][part]),
                _text(w["total_investment"][part]), _text(w["stage"][part]), _text(w["progress"][part]),
                _dates(w["planned_start"][part]), _dates(w["planned_end"][part]), _dates(w["actual_start"][part]),
                _dates(w["actual_end"][part])]

    return [
        ("geo_adminunit", ["id", "level", "code", "name", "unit_type", "parent_id", "boundary", "centre", "centre_address",
                           "area_km2", "population", "poor_households", "near_poor_households", "especially_difficult",
                           "border"],
         {"valid_from": VALID_FROM, "valid_to": NULL, "aliases": "[]", "source": source}, len(u["code"]), units),
        ("geo_village", ["id", "code", "name", "commune_id", "location", "population", "households", "poor_households",
                         "near_poor_households"], {"is_demo": "t"}, len(v["code"]), villages),
        ("geo_baseroad", ["id", "code", "name", "road_class", "surface", "all_season", "geometry"],
         {"source": source, "is_demo": "t"}, len(r["code"]), roads),
        ("works_work", ["id", "code", "name", "category", "school_level", "water_source", "road_class", "road_surface",
                        "all_season", "geometry", "current_commune_id", "beneficiary_households",
                        "beneficiary_poor_households", "beneficiary_women", "special_mechanism", "approved_year",
                        "total_investment", "stage", "progress", "planned_start", "planned_end", "actual_start",
                        "actual_end"],
         {"description": DESCRIPTION, "internal_notes": "", "approved_commune_id": NULL, "contractor_id": NULL,
          "version": "1", "is_demo": "t", "created_at": CREATED, "updated_at": CREATED}, len(w["code"]), works),
    ]


class _Reader:
    """A file for psycopg2's COPY: it sends whatever each read() returns, so a read is one chunk of rows."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks

    def read(self, _size: int = -1) -> bytes:
        return next(self._chunks, "").encode()


def _chunks(rows: int, constant: str, columns: Callable[[slice], list[list[str]]]) -> Iterator[str]:
    # The same-on-every-row columns come last, joined once: fewer pieces to join per row.
    for start in range(0, rows, CHUNK):
        part = slice(start, min(rows, start + CHUNK))
        yield "\n".join(map("\t".join, zip(*columns(part), [constant] * (part.stop - part.start), strict=True))) + "\n"


def _secondary(cursor) -> tuple[list[str], list[str]]:
    """Return statements dropping, then re-creating, the tables' secondary indexes and their unique and
    foreign-key constraints (primary keys stay: other tables' foreign keys point at them)."""
    cursor.execute("""
        SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('u', 'f')
        ORDER BY c.contype DESC, 1, 2""", [list(TABLES)])
    constraints = cursor.fetchall()  # unique ones first, for foreign keys that may need them
    cursor.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
        ORDER BY 1""", [list(TABLES)])
    indexes = cursor.fetchall()
    drop = [f"ALTER TABLE {t} DROP CONSTRAINT {name}" for t, name, _d, _k in reversed(constraints)]
    drop += [f"DROP INDEX {name}" for name, _d in indexes]
    add = {kind: [f"ALTER TABLE {t} ADD CONSTRAINT {name} {d}" for t, name, d, k in constraints if k == kind]
           for kind in "uf"}
    return drop, add["u"] + [d for _name, d in indexes] + add["f"]


def load(cursor, data: Dataset, *, log: Callable[[str], None] = lambda _text: None) -> dict[str, float]:
    """COPY the dataset into the migrated tables, inside the caller's transaction; return the timings.

    Ids continue after each table's largest, so rows already there (reference data, say) stay.
    """
    timings, clock = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = time.perf_counter() - clock
        clock = time.perf_counter()
        log(f"  {name}: {timings[name]:.1f} s")

    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    base = {}
    for table in TABLES:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        base[table] = cursor.fetchone()[0]
    drop, create = _secondary(cursor)
    for statement in drop:
        cursor.execute(statement)
    # Triggers off while copying: the works' stored features (infra.works.features) are built once, below.
    cursor.execute("SET LOCAL session_replication_role = replica")
    for table, columns, constant, rows, text in _specs(data, base):
        cursor.copy_expert(f"COPY {table} ({', '.join([*columns, *constant])}) FROM STDIN",
                           _Reader(_chunks(rows, "\t".join(constant.values()), text)))
        lap(f"copy {table} ({rows:,} rows)")
    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    for statement in create:
        cursor.execute(statement)
    lap(f"{len(create)} indexes and constraints")
    cursor.execute("SELECT to_regprocedure('works_feature_refresh(bigint[])') IS NOT NULL")
    if cursor.fetchone()[0]:
        new_works = "NULL" if not base["works_work"] else (
            f"(SELECT COALESCE(array_agg(id), '{{}}') FROM works_work WHERE id > {int(base['works_work'])})")
        cursor.execute(f"SELECT works_feature_refresh({new_works})")  # NULL: every work
        cursor.execute("SELECT works_count_rebuild()")  # the counts by category and stage, from all the works
        cursor.execute(f"ANALYZE {FEATURES}")
        lap("stored features and counts")
    for table in TABLES:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute(f"ANALYZE {table}")
    lap("analyze")
    return timings


def digests(cursor) -> dict[str, str]:
    """Return one md5 per table over the generated rows: whole rows (ids included) in id order."""
    cursor.execute("SET LOCAL TimeZone = 'UTC'")  # timestamps are printed in the session's zone
    found = {}
    for table in TABLES:
        if table == "geo_adminunit":
            mine, pattern = "t.source LIKE %s", f"{SOURCE}%"
        else:
            mine, pattern = "t.is_demo AND t.code LIKE %s", f"{CODE_PREFIX}%"
        cursor.execute(f"SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id)) FROM {table} t WHERE {mine}", [pattern])
        found[table] = cursor.fetchone()[0]
    return found
