"""GeoJSON FeatureCollections built inside the database, on PostGIS and SpatiaLite alike.

The whole collection is one SQL statement returning one text value, so a thousand features cost
the database's time, not a thousand rounds of Python serialisation (docs/PERFORMANCE).

Every statement has the same shape: a *match* query selecting the ids of the rows wanted, a page
of those ids, and the page joined back to the table to build the features. A caller may write
the match query itself (for instance a Django queryset's SQL, so an access policy applies
exactly) or let `where` and `bbox` describe it.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache, cached_property

from django.conf import settings
from django.db import connections
from django.db.backends.utils import CursorWrapper
from django.utils.connection import ConnectionProxy

from gis.reading import reading_alias, reading_connection

logger = logging.getLogger(__name__)

__all__ = [
    "COUNT_CAP",
    "STORED_PRECISION",
    "BBox",
    "Layer",
    "Page",
    "bbox_condition",
    "bbox_parts",
    "box_is_wide",
    "box_numbers",
    "feature",
    "feature_collection",
    "feature_page",
    "feature_sql",
    "fetch_row",
    "intersects_template",
    "json_bool",
    "sql_with_words",
    "json_subarray",
    "on_postgis",
    "parts_template",
    "precision_for_zoom",
    "sql_number",
    "tolerance_for_zoom",
]

# Above this many matches the exact count is not taken: counting a province-sized match set
# costs more than serving a page of it (docs/PERFORMANCE, "An exact count on every request").
COUNT_CAP = 10_000
# The decimals of the features a layer's `stored` table holds (about 0.1 m).
STORED_PRECISION = 6


@dataclass(frozen=True)
class Layer:
    """How to read one layer: a table, its id and geometry columns, and property expressions.

    `properties` maps an output name to a SQL expression over the table aliased `t`; names and
    expressions are written by developers, never taken from requests, and may not use the aliases
    the statement takes for itself (layer_match, layer_page, layer_sub, lf). Values from requests
    go in `params` only; statements always run with parameters, so a literal % is written %%.
    `joins` must be to-one (they may not multiply rows). `spatial_index` names the geometry column
    whose spatial index a bounding-box filter may use; leave it empty when `geometry` is computed.

    `stored` (PostGIS) names a table (id, feature) holding each row's Feature text as `feature_sql`
    builds it at STORED_PRECISION, kept current by the database itself; collections then join the
    stored texts instead of building every feature (a page missing any is built from the table instead).
    """

    table: str
    properties: dict[str, str]
    geometry: str = "t.geometry"
    id: str = "t.id"
    joins: str = ""
    spatial_index: str = ""
    stored: str = ""


@dataclass(frozen=True)
class BBox:
    """A longitude/latitude box in WGS84; min < max on both axes."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def __post_init__(self) -> None:
        values = (self.min_lon, self.min_lat, self.max_lon, self.max_lat)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("bbox values must be finite numbers")
        if not (-180 <= self.min_lon < self.max_lon <= 180 and -90 <= self.min_lat < self.max_lat <= 90):
            raise ValueError("bbox must satisfy -180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90")

    @property
    def values(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]

    @cached_property
    def envelope_sql(self) -> str:
        """The box as PostGIS `ST_MakeEnvelope` text, written once for the conditions that carry it."""
        return _envelope(*(sql_number(value) for value in self.values))


def sql_number(value: float) -> str:
    """A finite number as SQL text, written as psycopg2 writes a float parameter: its repr, with a space before a
    minus sign (so that no `--` can start a comment). For the numbers of a checked BBox, which PostGIS statements
    carry in their text, the same text the driver would write: quoting the thirty-odd values a page's box
    gives (bbox_parts) cost the driver about a microsecond each, 15–30 µs a page in a village-sized box."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = repr(float(value))
    return f" {text}" if text[0] == "-" else text


_WORD = re.compile(r"[A-Za-z0-9_]+")


def sql_with_words(sql: str, params: Sequence) -> tuple[str, tuple]:
    """On PostgreSQL, a statement's parameters that are all plain words (letters, digits, underscores: a
    policy's stages, say) written into its text as psycopg2 writes a str parameter ('word'), with its other %
    signs kept for the driver's own formatting (as %%); the statement and its parameters as they are elsewhere,
    or when any parameter is not such a word. For statements compiled once and run on every page: quoting
    them cost the driver a microsecond each, on every run."""
    if not params or not on_postgis() or not all(isinstance(p, str) and _WORD.fullmatch(p) for p in params):
        return sql, tuple(params)
    try:
        text = sql % tuple(f"'{p}'" for p in params)  # %s and %%, as the driver formats them
    except (TypeError, ValueError):
        return sql, tuple(params)
    return text.replace("%", "%%"), ()


# Both take numbers already written as SQL (sql_number): a box page writes each of its numbers once.
def _envelope(x0: str, y0: str, x1: str, y1: str) -> str:
    return f"ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4326)"


def _intersects(geometry: str, envelope: str) -> str:
    """The PostGIS box condition, for a box's text (BBox.envelope_sql) or a template's (intersects_template)."""
    return f"ST_Intersects({geometry}, {envelope})"


def _plain_names(*names: str) -> None:
    """Refuse SQL names that hold braces, which a template (its numbers as {0}, {1}, …) would misread."""
    if any(brace in name for name in names for brace in "{}"):
        raise ValueError("SQL names with braces")


def _box(x0: str, y0: str, x1: str, y1: str) -> str:
    return f"box(point({x0}, {y0}), point({x1}, {y1}))"


@dataclass(frozen=True)
class Page:
    """One page of a layer: the FeatureCollection text and how many rows matched.

    `matched` is None when more than `COUNT_CAP` rows matched (the exact number was not taken).
    `text` is UTF-8 bytes when the page was asked for `raw`; on PostgreSQL such a page is `open`: the
    database left out the collection's closing brace, for the caller to add members and close it
    (`head`) without copying the text (megabytes at limit 10,000) to cut the brace off.
    """

    text: str | bytes
    matched: int | None
    returned: int
    open: bool = False

    def document(self) -> str | bytes:
        """The whole collection (closed again, a copy, when the page is open)."""
        return self.text + b"}" if self.open else self.text

    def head(self) -> bytes:
        """Return the collection as UTF-8 bytes without its closing brace, for a caller to add members after."""
        if self.open:
            return self.text
        text = self.text if isinstance(self.text, bytes) else self.text.encode()
        return text[:-1]


def on_postgis() -> bool:
    """Whether this request's reads go to PostGIS. Asked a dozen times a page: the answer per database alias
    is kept, since a process never changes the backend an alias names (a replica is PostGIS as its primary)."""
    alias = reading_alias()
    postgis = _POSTGIS.get(alias)
    if postgis is None:
        postgis = _POSTGIS[alias] = connections[alias].vendor == "postgresql"
    return postgis


_POSTGIS: dict[str, bool] = {}


def json_bool(column: str) -> str:
    """Return a SQL expression giving a boolean column as JSON true/false on either database."""
    # SQLite stores booleans as 0/1, which json_object would write as numbers.
    if on_postgis():
        return column
    return f"json(CASE WHEN {column} THEN 'true' WHEN {column} IS NULL THEN 'null' ELSE 'false' END)"


def json_subarray(expression: str, from_sql: str) -> str:
    """Return a SQL expression giving `SELECT expression from_sql` as a JSON array (sorted)."""
    if on_postgis():
        return f"(SELECT COALESCE(json_agg({expression} ORDER BY {expression}), '[]'::json) {from_sql})"
    return f"json((SELECT json_group_array(v) FROM (SELECT {expression} AS v {from_sql} ORDER BY 1)))"


def tolerance_for_zoom(zoom: int) -> float:
    """Return half a screen pixel at a web-map zoom level, in degrees: what simplification may drop."""
    return 360.0 / (256 * 2 ** int(zoom)) / 2


def precision_for_zoom(zoom: int) -> int:
    """Return the decimals of a degree that still tell two pixels apart at a zoom level (3–6)."""
    return max(3, min(6, math.ceil(-math.log10(tolerance_for_zoom(zoom)))))


def bbox_condition(bbox: BBox, *, geometry: str, table: str = "", column: str = "", id: str = "t.id") -> tuple[str, list]:
    """Return SQL (and its params) true where `geometry` intersects the box.

    On PostGIS `ST_Intersects` uses the GiST index by itself. SpatiaLite never uses its R*Tree
    implicitly, so when `table` and `column` name an indexed column the candidates are first taken
    from the index table (`idx_<table>_<column>`), then checked exactly.
    """
    if on_postgis():
        return _intersects(geometry, bbox.envelope_sql), []
    exact = f"Intersects({geometry}, BuildMbr(%s, %s, %s, %s, 4326)) = 1"
    if table and column and _spatialite_index_enabled(table, column):
        candidates = (
            f"{id} IN (SELECT pkid FROM \"idx_{table}_{column}\" "
            "WHERE xmin <= %s AND xmax >= %s AND ymin <= %s AND ymax >= %s)"
        )
        return (f"{candidates} AND {exact}",
                [bbox.max_lon, bbox.min_lon, bbox.max_lat, bbox.min_lat, *bbox.values])
    return f"MbrIntersects({geometry}, BuildMbr(%s, %s, %s, %s, 4326)) = 1 AND {exact}", bbox.values * 2


# PostgreSQL compares `box` values with a tolerance of 1e-6 (EPSILON in its geo_decls.h): the part of a
# box counted from extents alone is shrunk by more than that, and the rest tested exactly.
_BOX_MARGIN = 1e-5


def bbox_parts(bbox: BBox, *, table: str, outer: str, extent: str, geometry: str) -> tuple[tuple[str, list], tuple[str, list]]:
    """Split "intersects the box" (PostGIS) into two disjoint conditions that together say the same, for counting.

    `extent` names a column of `table` holding each row's bounding box as a PostgreSQL `box` (never
    smaller than the geometry's), with a GiST index that includes the id (and whatever else the caller
    filters on); `geometry` names its geometry column; `outer` is how the outer query names the table.
    The first condition holds for the rows whose extent lies inside the box shrunk by _BOX_MARGIN: they
    intersect the box, and an index-only scan finds them without reading a geometry. The second holds
    for the other rows that intersect the box: their extent then meets one of four strips, _BOX_MARGIN
    wide, along the inside of its edges, so the index finds the few candidates by the strips and only
    those are tested exactly. Both parts use the same `<@`, so no row is in both, whatever its tolerance.
    """
    inner, crossing = parts_template(table, outer, extent, geometry, wide=box_is_wide(bbox))
    numbers = box_numbers(bbox)
    return (inner.format(*numbers), []), (crossing.format(*numbers), [])


def box_numbers(bbox: BBox) -> list[str]:
    """The numbers a box's PostGIS conditions carry, as SQL text (sql_number), {0} to {7} of the texts kept per
    shape (parts_template, intersects_template): its corners (x0, y0, x1, y1), then the inner edges of
    bbox_parts' strips (left, right, bottom, top), which are also the shrunk box's when it is wide enough."""
    x0, y0, x1, y1 = bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat
    m = _BOX_MARGIN
    return [sql_number(v) for v in (x0, y0, x1, y1, min(x0 + m, x1), max(x1 - m, x0), min(y0 + m, y1), max(y1 - m, y0))]


def box_is_wide(bbox: BBox) -> bool:
    """Whether the box shrunk by _BOX_MARGIN on every side is still a box (bbox_parts' inner part)."""
    return bbox.max_lon - bbox.min_lon > 2 * _BOX_MARGIN and bbox.max_lat - bbox.min_lat > 2 * _BOX_MARGIN


def intersects_template(geometry: str) -> str:
    """bbox_condition's PostGIS text for `geometry`, with the box's corners as {0} to {3} (box_numbers)."""
    _plain_names(geometry)
    return _intersects(geometry, _envelope("{0}", "{1}", "{2}", "{3}"))


@cache
def parts_template(table: str, outer: str, extent: str, geometry: str, *, wide: bool) -> tuple[str, str]:
    """bbox_parts' two conditions for these names, with the box's numbers as {0} to {7} (box_numbers): written
    once per shape, so that a page formats one text per condition instead of putting it together again."""
    _plain_names(table, outer, extent, geometry)
    X0, Y0, X1, Y1, left, right, bottom, top = (f"{{{i}}}" for i in range(8))
    inner = f"{{column}} <@ {_box(left, bottom, right, top)}" if wide else "false"  # narrow: nothing inside by extent alone
    strips = [(X0, Y0, left, Y1), (right, Y0, X1, Y1), (X0, Y0, X1, bottom), (X0, top, X1, Y1)]
    meets = " OR ".join(f"e.{extent} && {_box(*strip)}" for strip in strips)
    # OFFSET 0 keeps the exact test out of the candidates' scan: otherwise the planner also scans the
    # geometry index over the whole box, which is the cost this split avoids.
    crossing = (
        f"{outer}.id IN (SELECT c.id FROM (SELECT e.id, e.{geometry} AS g FROM {table} e WHERE ({meets}) "
        f"AND NOT COALESCE({inner.replace('{column}', f'e.{extent}')}, false) OFFSET 0) c "
        f"WHERE {_intersects('c.g', _envelope(X0, Y0, X1, Y1))})"
    )
    return inner.replace("{column}", f"{outer}.{extent}"), crossing


def _spatialite_index_enabled(table: str, column: str) -> bool:
    """Whether SpatiaLite maintains the R*Tree of a column (asked once per database and column)."""
    # A table that Django's SQLite schema editor rebuilt keeps an idx_ table that nothing
    # updates any more (spatial_index_enabled = 0): reading it would silently lose rows.
    connection = reading_connection()
    key = (connection.settings_dict["NAME"], table, column)
    if key not in _SPATIALITE_INDEXES:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name = %s AND f_geometry_column = %s",
                [table.lower(), column.lower()],
            )
            row = cursor.fetchone()
        _SPATIALITE_INDEXES[key] = bool(row and row[0] == 1)
    return _SPATIALITE_INDEXES[key]


_SPATIALITE_INDEXES: dict[tuple[str, str, str], bool] = {}


def _geometry_json(layer: Layer, *, tolerance: float | None, precision: int, wrap: bool = True) -> str:
    geometry = layer.geometry
    postgis = on_postgis()
    if tolerance:
        # A float computed from an integer zoom, never text from a request.
        simplify = "ST_SimplifyPreserveTopology" if postgis else "SimplifyPreserveTopology"
        multi = "ST_Multi" if postgis else "CastToMulti"
        simplified = f"{simplify}({geometry}, {float(tolerance)!r})"
        # GEOS returns a one-part multi geometry as a single one; keep the type the layer declares.
        geometry = f"CASE WHEN GeometryType({geometry}) LIKE 'MULTI%%' THEN {multi}({simplified}) ELSE {simplified} END"
    if postgis:
        return f"ST_AsGeoJSON({geometry}, {int(precision)})::json"
    as_text = f"AsGeoJSON({geometry}, {int(precision)})"
    return f"json({as_text})" if wrap else as_text


def _match_sql(layer: Layer, *, where: str, params: Sequence, bbox: BBox | None) -> tuple[str, list]:
    conditions, all_params = [], list(params)
    if where:
        conditions.append(f"({where})")
    if bbox is not None:
        table, column = (layer.table, layer.spatial_index) if layer.spatial_index else ("", "")
        sql, bbox_params = bbox_condition(bbox, geometry=layer.geometry, table=table, column=column)
        conditions.append(sql)
        all_params += bbox_params
    where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT t.id AS id FROM {layer.table} t {layer.joins}{where_sql}", all_params


def _limit_sql(limit: int | None, offset: int) -> str:
    if limit is None and not offset:
        return ""
    # SQLite needs a LIMIT before an OFFSET; -1 means none (PostgreSQL takes ALL).
    count = str(int(limit)) if limit is not None else ("ALL" if on_postgis() else "-1")
    return f" LIMIT {count} OFFSET {int(offset)}"


def _collection_sql(
    layer: Layer, *, match: str, page: str, counted: bool, tolerance: float | None, precision: int, returned: bool = False,
    cap: int = 0, count_match: str = "", exact_count: str = "", open_end: bool = False,
) -> str:
    """Return the statement; `match` selects ids, `page` orders and slices them (`counted`: slices; the order is by id).

    `open_end` (PostgreSQL): the collection's text without its closing brace (see Page.open).

    `count_match`, when given, selects the same ids as `match` in a form that is cheaper to count
    (see bbox_parts); the ids are counted from it, and `match` pages past the cap. `exact_count`,
    when given, is SQL giving the exact number of ids `match` selects (a number the database keeps):
    nothing is counted, and `numberMatched` is stated whatever its size.

    `counted` adds `numberMatched` and `numberReturned` (and returns both as extra columns);
    `returned` adds `numberReturned` alone. From the layer's `stored` table (when it serves), a last
    column counts the rows missing from it.
    """
    postgis = on_postgis()
    stored = _serves_stored(layer, tolerance=tolerance, precision=precision)
    if counted:
        # At most cap + 1 matching ids are read, once, and kept (an index-only scan where one serves).
        # A match of at most cap rows is then paged by sorting those ids, whatever index found them; a
        # larger match pages over the id index, where matches are dense. Each branch's condition is
        # evaluated once, before it runs, so only one branch reads anything.
        cap = int(cap)
        # With an exact number given, nothing is counted and a small match is read again to be sorted.
        small_from = f"({match}) layer_s" if exact_count else "layer_ids"
        small = (f"SELECT id FROM (SELECT id FROM {small_from} WHERE (SELECT n FROM layer_count) <= {cap} "
                 f"ORDER BY id{page}) layer_s2")
        large = (f"SELECT id FROM (SELECT id FROM ({match}) layer_l WHERE (SELECT n FROM layer_count) > {cap} "
                 f"ORDER BY id{page}) layer_l2")
        if exact_count:
            counting = f"layer_count AS (SELECT ({exact_count}) AS n)"
        else:
            ids = f"SELECT id FROM ({count_match or match}) layer_c LIMIT {cap + 1}"
            counting = f"layer_ids AS MATERIALIZED ({ids}), layer_count AS (SELECT count(*) AS n FROM layer_ids)"
        ctes = f"WITH {counting}, layer_page AS ({small} UNION ALL {large})"
        # A count past the cap is not exact: null here (feature_page drops the member), left out below.
        stated, under_cap = ("n", "") if exact_count else (f"CASE WHEN n <= {cap} THEN n END", f" WHERE n <= {cap}")
        members = f"'numberMatched', (SELECT {stated} FROM layer_count), 'numberReturned', count(lf.id), "
        extra = ", (SELECT n FROM layer_count), count(lf.id)"
    else:
        ctes = f"WITH layer_page AS (SELECT id FROM ({match}) layer_sub{page})"
        members, extra = ("'numberReturned', count(lf.id), " if returned else ""), ""
    if stored:
        # The collection as text around the stored features (a JSON document equal to the one built below).
        head = "'{\"type\": \"FeatureCollection\", '"
        if counted:
            # Past the cap numberMatched is left out here (an inexact count is never stated).
            head += (f" || COALESCE((SELECT '\"numberMatched\": ' || n || ', ' FROM layer_count{under_cap}), '')"
                     " || '\"numberReturned\": ' || count(lf.id) || ', '")
        elif returned:
            head += " || '\"numberReturned\": ' || count(lf.id) || ', '"
        # The last column counts the page's rows the stored table lacks (string_agg skips them): the
        # caller then builds the page as below instead (see _stored_or_built), never a page short.
        close = "]" if open_end else "]}"
        return (
            f"{ctes} SELECT {head} || '\"features\": [' || COALESCE(string_agg(lf.feature, ', ' ORDER BY lf.id), '') "
            f"|| '{close}'{extra}, count(lf.id) - count(lf.feature) FROM layer_page CROSS JOIN LATERAL "
            f"(SELECT layer_page.id AS id, (SELECT s.feature FROM {layer.stored} s WHERE s.id = layer_page.id) AS feature) lf"
        )
    # Built here, not above: a collection of stored features names neither its properties nor its geometry.
    props_sql = ", ".join(f"'{name}', {expr}" for name, expr in layer.properties.items())
    geometry = _geometry_json(layer, tolerance=tolerance, precision=precision, wrap=postgis)
    if postgis:
        collection = (f"json_build_object('type', 'FeatureCollection', {members}'features', "
                      "COALESCE(json_agg(json_build_object('type', 'Feature', 'id', lf.id, 'geometry', lf.geom, "
                      "'properties', lf.props) ORDER BY lf.id), '[]'::json))::text")
        return (
            f"{ctes} SELECT {f'left({collection}, -1)' if open_end else collection}{extra} "
            # LATERAL: each row of the page is fetched by its primary key (a page is at most 10,000
            # rows; a hash join would read the whole table to find them).
            f"FROM layer_page CROSS JOIN LATERAL (SELECT {layer.id} AS id, {geometry} AS geom, "
            f"json_build_object({props_sql}) AS props FROM {layer.table} t {layer.joins} WHERE t.id = layer_page.id) lf"
        )
    # json_group_array keeps the order of its input, which the inner ORDER BY fixes. SQLite's JSON
    # values lose their JSON type when they pass through a subquery, hence json() outside.
    return (
        f"{ctes} SELECT json_object('type', 'FeatureCollection', {members}'features', "
        "json(COALESCE(json_group_array(json_object('type', 'Feature', 'id', lf.id, 'geometry', json(lf.geom), "
        f"'properties', json(lf.props))), '[]'))){extra} "
        f"FROM (SELECT {layer.id} AS id, {geometry} AS geom, json_object({props_sql}) AS props "
        f"FROM layer_page JOIN {layer.table} t ON t.id = layer_page.id {layer.joins} ORDER BY t.id) lf"
    )


def feature_collection(
    layer: Layer,
    *,
    where: str = "",
    params: Sequence = (),
    limit: int | None = None,
    offset: int = 0,
    bbox: BBox | None = None,
    tolerance: float | None = None,
    precision: int = 6,
    match: tuple[str, Sequence] | None = None,
) -> str:
    """Return the layer's rows matching `where` (SQL with %s placeholders) as GeoJSON text, by id.

    `match`, when given, replaces `where` and `bbox`: SQL selecting the matching ids of
    `layer.table` in a column `id`, with its params.
    """
    match_sql, match_params = match if match is not None else _match_sql(layer, where=where, params=params, bbox=bbox)
    page = f" ORDER BY id{_limit_sql(limit, offset)}"

    def run(layer: Layer) -> tuple:
        sql = _collection_sql(layer, match=match_sql, page=page, counted=False, tolerance=tolerance, precision=precision)
        with reading_connection().cursor() as cursor:
            cursor.execute(sql, list(match_params))
            return cursor.fetchone()

    return _stored_or_built(layer, run, tolerance=tolerance, precision=precision)[0]


def _serves_stored(layer: Layer, *, tolerance: float | None, precision: int) -> bool:
    return bool(layer.stored) and on_postgis() and tolerance is None and int(precision) == STORED_PRECISION


def _stored_or_built(layer: Layer, run: Callable[[Layer], tuple], *, tolerance: float | None, precision: int) -> tuple:
    """Run a collection statement (`run`); if it joined stored features and some were missing, run it
    again building every feature, so that a page is never short. Returns the statement's row without
    the count of missing features."""
    row = run(layer)
    if not _serves_stored(layer, tolerance=tolerance, precision=precision):
        return row
    *row, missing = row
    if missing:
        logger.warning("%s lacks %s of the features asked for: built from %s instead", layer.stored, missing, layer.table)
        return run(replace(layer, stored=""))
    return tuple(row)


# Prepared page statements per database session: at most this many, the oldest dropped.
PREPARED_MAX = 64


def _execute_prepared(cursor, sql: str, params: Sequence, offset: int) -> None:
    """Execute a page statement whose text holds `$1` for its offset as a statement prepared in this database
    session, preparing it first when the session has not: PostgreSQL then plans each shape of page once
    instead of on every request. Every value but the offset is written into the text (as the driver would
    send it anyway), so the plan is the one a plain statement gets; a new offset reuses it.

    A prepared statement outlives the transaction that prepares it, even one rolled back, and lives as
    long as its session: the names prepared are kept on Django's connection (one per thread) beside the
    driver connection they belong to, and forgotten when Django opens a new one."""
    raw = cursor.cursor.connection
    connection = cursor.db  # Django's connection the cursor came from
    held = getattr(connection, "_layer_pages_prepared", None)
    if held is None or held[0] is not raw:
        held = connection._layer_pages_prepared = (raw, OrderedDict())
    prepared = held[1]
    text = cursor.cursor.mogrify(sql, list(params)).decode()
    name = "layer_page_" + hashlib.sha256(text.encode()).hexdigest()[:24]
    if name in prepared:
        prepared.move_to_end(name)
    else:
        dropped = ""
        if len(prepared) >= PREPARED_MAX:
            oldest, _none = prepared.popitem(last=False)
            dropped = f"DEALLOCATE {oldest}; "
        cursor.execute(f"{dropped}PREPARE {name} (bigint) AS {text}")
        prepared[name] = None
    cursor.execute(f"EXECUTE {name}({int(offset)})")


def _bytes_from(cursor) -> None:
    """Have a psycopg2 cursor give text columns as the database's UTF-8 bytes (this cursor only)."""
    import psycopg2.extensions

    psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor)


def _django_s_cursor(connection) -> bool:
    """Whether `connection`'s cursors are made and run by Django's own code for psycopg2 (fetch_row's lean path
    leaves them out): its backend's create_cursor and make_cursor, and CursorWrapper's execute."""
    kind = type(connection)
    if kind is ConnectionProxy:  # django.db.connection: the alias's wrapper, looked up per thread
        kind = type(connections[connection.alias])
    hooks = (CursorWrapper.execute, kind.create_cursor, kind.make_cursor)
    known = _DJANGO_S_CURSOR.get(kind)
    if known is None or any(now is not then for now, then in zip(hooks, known[0], strict=True)):
        from django.db.backends.postgresql.base import DatabaseWrapper, is_psycopg3

        execute, create, make = hooks
        own = (not is_psycopg3 and create is DatabaseWrapper.create_cursor and make is DatabaseWrapper.make_cursor
               and execute.__module__ == CursorWrapper.__module__ and execute.__qualname__ == "CursorWrapper.execute")
        known = _DJANGO_S_CURSOR[kind] = (hooks, own)
    return known[1]


_DJANGO_S_CURSOR: dict[type, tuple] = {}


def fetch_row(connection, sql: str, params: Sequence, *, as_bytes: bool = False) -> tuple | None:
    """The first row of a statement run on Django's `connection`, as `connection.cursor()`, `execute()` and
    `fetchone()` give it; `as_bytes` (PostgreSQL): text as UTF-8 bytes.

    On PostgreSQL, when no one is watching the statements (Django's query log, which DEBUG and the tests'
    query counts turn on, and `execute_wrapper`s), the row is read through the driver's own cursor, with the
    checks Django's cursor makes around it: the health check of a kept connection and connecting, the
    thread that owns the connection, no statement in a broken transaction, and the driver's errors raised
    as Django's (`wrap_database_errors`). The wrappers around it (the cursor's and execute's, about 30 µs a
    page on a cold processor) are what a page of a village-sized box spends most around its statement.

    Only while those wrappers are Django's own (`_django_s_cursor`): a backend that makes its own cursors, or
    a monitoring library that replaces CursorWrapper.execute, would not see the statement otherwise, so
    its statements go through Django's cursor; and only with psycopg2 (psycopg 3 sets its time zone on a
    cursor in its own way)."""
    if (connection.vendor != "postgresql" or connection.queries_logged or connection.execute_wrappers
            or not _django_s_cursor(connection)):
        with connection.cursor() as cursor:
            if as_bytes:
                _bytes_from(cursor.cursor)
            cursor.execute(sql, params)
            with connection.wrap_database_errors:
                return cursor.cursor.fetchone()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            cursor.tzinfo_factory = connection.tzinfo_factory if settings.USE_TZ else None  # as create_cursor sets it
            if as_bytes:
                _bytes_from(cursor)
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            cursor.close()


def feature_page(
    layer: Layer,
    *,
    limit: int,
    offset: int = 0,
    where: str = "",
    params: Sequence = (),
    bbox: BBox | None = None,
    tolerance: float | None = None,
    precision: int = 6,
    match: tuple[str, Sequence] | None = None,
    count_cap: int = COUNT_CAP,
    raw: bool = False,
    count_match: tuple[str, Sequence] | None = None,
    exact_count: tuple[str, Sequence] | None = None,
    prepare: bool = False,
) -> Page:
    """Return one page (ordered by id) with `numberMatched` and `numberReturned`, in one statement
    (two when stored features were missing: see _stored_or_built).

    At most `count_cap` + 1 matching ids are counted; when that is the whole match, the page is
    sorted from it. Past `count_cap` the page comes from the whole
    match in id order, and the text carries `numberReturned` only. Features are built for the rows
    of the page alone. `raw`: the text as the database's UTF-8 bytes, for a response to pass on
    without decoding and encoding it again. `count_match`: the same ids as `match`, in SQL that
    counts faster (see bbox_parts). `exact_count`: SQL giving the exact number of ids `match`
    selects, without counting them; `numberMatched` is then stated whatever its size. `prepare`
    (PostgreSQL): the statement is prepared once per database session and shape (see
    _execute_prepared); for pages whose values come from a small set (no box, no free text), since
    each new set of values is a new shape.
    """
    match_sql, match_params = match if match is not None else _match_sql(layer, where=where, params=params, bbox=bbox)
    count_sql, count_params = count_match if count_match is not None else (match_sql, match_params)
    exact_sql, exact_params = exact_count if exact_count is not None else ("", ())
    cap = int(count_cap)

    prepared = prepare and on_postgis()
    open_end = raw and on_postgis()

    def run(layer: Layer) -> tuple:
        page = f" LIMIT {int(limit)} OFFSET $1" if prepared else _limit_sql(limit, offset)
        sql = _collection_sql(layer, match=match_sql, page=page, counted=True, tolerance=tolerance,
                              precision=precision, cap=cap, count_match=count_sql, exact_count=exact_sql,
                              open_end=open_end)
        # The count comes first, then the match for a page; the ids counted, or the exact number.
        values = [*exact_params, *match_params, *match_params] if exact_sql else [*count_params, *match_params]
        connection = reading_connection()
        if not prepared:
            return fetch_row(connection, sql, values, as_bytes=open_end)
        with connection.cursor() as cursor:
            if open_end:
                _bytes_from(cursor.cursor)
            _execute_prepared(cursor, sql, values, offset)
            with cursor.db.wrap_database_errors:  # as CursorWrapper wraps fetchone, without a new wrapper each time
                return cursor.cursor.fetchone()

    text, matched, returned = _stored_or_built(layer, run, tolerance=tolerance, precision=precision)
    if raw and isinstance(text, str):
        text = text.encode()
    if matched > cap and not exact_sql:
        # Past the cap the count is not exact: leave numberMatched out rather than state a wrong number.
        pattern = _NULL_MATCHED_BYTES if isinstance(text, bytes) else _NULL_MATCHED
        found = pattern.search(text, 0, 200)
        if found:
            text = text[:found.start()] + text[found.end():]
        return Page(text=text, matched=None, returned=returned, open=open_end)
    return Page(text=text, matched=matched, returned=returned, open=open_end)


_NULL_MATCHED = re.compile(r'"numberMatched"\s*:\s*null\s*,\s*')
_NULL_MATCHED_BYTES = re.compile(_NULL_MATCHED.pattern.encode())


def feature_sql(layer: Layer, *, precision: int = 6) -> str:
    """Return a SQL expression giving one row of `layer` (aliased `t`) as GeoJSON Feature text."""
    props_sql = ", ".join(f"'{name}', {expr}" for name, expr in layer.properties.items())
    geometry = _geometry_json(layer, tolerance=None, precision=precision)
    if on_postgis():
        return (f"json_build_object('type', 'Feature', 'id', {layer.id}, 'geometry', {geometry}, "
                f"'properties', json_build_object({props_sql}))::text")
    return (f"json_object('type', 'Feature', 'id', {layer.id}, 'geometry', {geometry}, "
            f"'properties', json_object({props_sql}))")


def feature(layer: Layer, *, where: str, params: Sequence = (), precision: int = 6) -> str | None:
    """Return the first row matching `where` as a GeoJSON Feature text, or None."""
    sql = f"SELECT {feature_sql(layer, precision=precision)} FROM {layer.table} t {layer.joins} WHERE {where} LIMIT 1"
    with reading_connection().cursor() as cursor:
        cursor.execute(sql, list(params))
        row = cursor.fetchone()
    return row[0] if row else None
