"""Mapbox vector tiles at /tiles/<layer>/<z>/<x>/<y>.mvt, built by ST_AsMVT in one statement (PostGIS only).

Low zooms are thinned: geometries are simplified to half a pixel and each tile carries at most a
zoom-dependent number of features, the largest first (docs/PERFORMANCE: an unthinned z6 tile of a
national table is ~19 MB). Works go through the access policy, as on the map and in the APIs, and
take the API's filters (?category=road&commune=03549…), so the map page can draw them from tiles.
Tiles carry what the map draws and its tooltips need; a work's popup reads /api/works/<id>/.
SpatiaLite has no MVT encoder: there the tiles answer 404 and the map uses GeoJSON.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from rest_framework.exceptions import ValidationError

from gis.layers import on_postgis, tolerance_for_zoom
from gis.reading import reading_connection
from gis.models import AdminUnit, BaseRoad, Village
from infra.accounts.policy import stages_seen_whole
from infra.api.params import QueryParams, WorkFilterParams
from infra.ogc.tile_cache import CACHED_BELOW_ZOOM, database_state, tile_cache
from infra.ogc.views import Problem, _messages, _problem
from infra.works.models import Work
from infra.works.selectors import WorkFilters, works_match, works_matching

__all__ = ["MAX_ZOOM", "TILE_LAYERS", "feature_limit", "tile", "tile_bytes"]

MVT = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
EXTENT = 4096
# 16 pixels of a 256-pixel tile: a map symbol (up to 15 px from its point) near an edge is drawn whole
# in the next tile too, and a click there finds it.
BUFFER = 256
_NUMBER = re.compile(r"^[0-9]{1,8}$")


@dataclass(frozen=True)
class TileLayer:
    table: str
    geometry: str
    properties: dict[str, str]
    where: str = ""
    policy: bool = False
    # A second MVT layer "<name>-symbols": one point per line or area feature, where the map puts its symbol.
    anchors: bool = False


UNITS = AdminUnit._meta.db_table
TILE_LAYERS: dict[str, TileLayer] = {
    # Public fields only: a tile is cached and shared more freely than a page.
    "works": TileLayer(Work._meta.db_table, "t.geometry",
                       {"code": "t.code", "name": "t.name", "category": "t.category", "stage": "t.stage",
                        "road_surface": "t.road_surface", "is_demo": "t.is_demo"}, policy=True, anchors=True),
    "communes": TileLayer(UNITS, "t.boundary", {"code": "t.code", "name": "t.name"},
                          where="t.level = 'commune' AND t.valid_to IS NULL AND t.boundary IS NOT NULL"),
    "villages": TileLayer(Village._meta.db_table, "t.location",
                          {"code": "t.code", "name": "t.name", "population": "t.population", "households": "t.households",
                           "poor_households": "t.poor_households", "near_poor_households": "t.near_poor_households",
                           "commune": f"(SELECT c.name FROM {UNITS} c WHERE c.id = t.commune_id)",
                           "is_demo": "t.is_demo"}),
    "roads": TileLayer(BaseRoad._meta.db_table, "t.geometry",
                       {"code": "t.code", "name": "t.name", "road_class": "t.road_class", "surface": "t.surface",
                        "all_season": "t.all_season", "is_demo": "t.is_demo"}),
}

# Where the home map (static/js/home-styles.js, anchorOf) puts the symbol of a line or area work: a line's
# middle vertex (of its longest part), an area's bounding-box centre. Computed on the whole geometry, so
# every tile that holds the anchor agrees.
_ANCHOR = (
    "CASE WHEN GeometryType(whole) = 'LINESTRING' THEN ST_PointN(whole, ST_NPoints(whole) / 2 + 1) "
    "WHEN GeometryType(whole) = 'MULTILINESTRING' THEN (SELECT ST_PointN(d.geom, ST_NPoints(d.geom) / 2 + 1) "
    "FROM ST_Dump(whole) d ORDER BY ST_NPoints(d.geom) DESC, d.path LIMIT 1) "
    "WHEN GeometryType(whole) IN ('POLYGON', 'MULTIPOLYGON') THEN ST_Centroid(ST_Envelope(whole)) END"
)


def feature_limit(zoom: int) -> int:
    """Return the most features one tile carries at a zoom: few at country and province scale, all up close."""
    if zoom < 6:
        return 200
    if zoom < 9:
        return 1_000
    if zoom < 12:
        return 5_000
    return 50_000


def tile_bytes(layer_id: str, z: int, x: int, y: int, *, user: Any, filters: WorkFilters | None = None) -> bytes:
    """Return the tile of a layer as MVT bytes (empty when nothing lies in it); `filters` narrow the works."""
    layer = TILE_LAYERS[layer_id]
    envelope = "ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326)"
    tile_params = [z, x, y, BUFFER / EXTENT]
    conditions, params = [f"{layer.geometry} && {envelope}"], list(tile_params)
    if layer.policy:
        # The policy's (and filters') queryset, narrowed to the tile too: both sides then come from the spatial
        # index (an IN over the whole visible set would hash every visible work of the country for every tile).
        visible = works_matching(user=user, filters=filters or WorkFilters()).filter(
            RawSQL(f'"{layer.table}"."geometry" && {envelope}', tile_params, output_field=BooleanField()))
        match_sql, match_params = works_match(visible)
        conditions.append(f"t.id IN ({match_sql})")
        params += list(match_params)
    if layer.where:
        conditions.append(layer.where)
    geometry = layer.geometry
    order = "t.id"
    if z < 12:
        # Half a pixel of simplification (a float from the integer zoom), and the largest features first.
        geometry = f"ST_SimplifyPreserveTopology({geometry}, {tolerance_for_zoom(z)!r})"
        order = (f"(ST_XMax({layer.geometry}) - ST_XMin({layer.geometry})) + "
                 f"(ST_YMax({layer.geometry}) - ST_YMin({layer.geometry})) DESC, t.id")
    props = ", ".join(f"{expression} AS {name}" for name, expression in layer.properties.items())
    names = ", ".join(layer.properties)
    picked = (f"WITH picked AS (SELECT t.id, {props}, {geometry} AS drawn, {layer.geometry} AS whole "
              f"FROM {layer.table} t WHERE {' AND '.join(conditions)} ORDER BY {order} LIMIT {feature_limit(z)}) ")

    def encoded(name: str, shape: str, where: str = "") -> tuple[str, list]:
        # An empty aggregate is NULL, and NULL || anything is NULL: an empty layer adds no bytes instead.
        return (f"COALESCE((SELECT ST_AsMVT(mvt, %s, {EXTENT}, 'geom', 'id') FROM ("
                f"SELECT id, {names}, ST_AsMVTGeom(ST_Transform({shape}, 3857), ST_TileEnvelope(%s, %s, %s), "
                f"{EXTENT}, {BUFFER}, true) AS geom FROM picked {where}) mvt WHERE mvt.geom IS NOT NULL), ''::bytea)",
                [name, z, x, y])

    # A tile may hold several layers: their encodings simply follow one another.
    parts = [encoded(layer_id, "drawn")]
    if layer.anchors:
        parts.append(encoded(f"{layer_id}-symbols", _ANCHOR, "WHERE GeometryType(whole) NOT IN ('POINT', 'MULTIPOINT')"))
    sql = picked + "SELECT " + " || ".join(part for part, _params in parts)
    with reading_connection().cursor() as cursor:
        cursor.execute(sql, [*params, *(p for _part, part_params in parts for p in part_params)])
        (data,) = cursor.fetchone()
    return bytes(data or b"")


def _coordinates(z: str, x: str, y: str) -> tuple[int, int, int]:
    if not all(_NUMBER.match(v) for v in (z, x, y)):
        raise Problem(400, "InvalidParameterValue", _("Tile coordinates z/x/y must be whole numbers."))
    zoom, column, row = int(z), int(x), int(y)
    if zoom > MAX_ZOOM:
        raise Problem(400, "InvalidParameterValue", _("Zoom must be between 0 and %(max)s.") % {"max": MAX_ZOOM})
    if column >= 2 ** zoom or row >= 2 ** zoom:
        raise Problem(400, "InvalidParameterValue",
                      _("At zoom %(z)s, x and y must be between 0 and %(max)s.") % {"z": zoom, "max": 2 ** zoom - 1})
    return zoom, column, row


def _filters(layer: str, request: HttpRequest) -> WorkFilters | None:
    """Return the works filters of the query (as /api/works/ takes them); other layers take none."""
    if not request.GET:
        # Most tile requests have no query: nothing to check (the parsers would find nothing either).
        return WorkFilters() if TILE_LAYERS[layer].policy else None
    try:
        if TILE_LAYERS[layer].policy:
            return WorkFilterParams.parse(request.GET).filters()
        QueryParams.parse(request.GET)
    except ValidationError as error:
        raise Problem(400, "InvalidParameterValue", _messages(error)) from None
    return None


def _kept_state(layer: str, z: int, user: Any) -> tuple[str, tuple] | None:
    """Return the database state and the person's visibility to keep this tile under, or None when it is
    not kept (infra/ogc/tile_cache.py). Read before the query is parsed: its commune is read after it."""
    if z >= CACHED_BELOW_ZOOM or tile_cache() is None:
        return None
    seen = stages_seen_whole(user) if TILE_LAYERS[layer].policy else ()
    if seen is None:
        return None
    state = database_state()
    return None if state is None else (state, seen)


def _built(layer: str, z: int, x: int, y: int, *, user: Any, filters: WorkFilters | None,
           kept: tuple[str, tuple] | None) -> tuple[bytes, str]:
    """Return the tile and its ETag: kept from an earlier request of the same database state, visibility
    and query (`kept`: see _kept_state), else built."""
    cache = tile_cache() if kept is not None else None
    if cache is not None:
        state, seen = kept
        # The commune by its id: the state names what it held when the tile was built.
        key = (layer, z, x, y, seen, filters and replace(filters, commune=None),
               filters.commune.pk if filters and filters.commune else None)
        found = cache.get(state, key)
        if found is not None:
            return found
    data = tile_bytes(layer, z, x, y, user=user, filters=filters)
    etag = f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"'
    if cache is not None:
        cache.put(state, key, data, etag, extra=len(filters.q) if filters else 0)
    return data, etag


@require_safe
def tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    """One vector tile, with an ETag and a max-age; 304 when the client's copy is current."""
    with translation.override(translation.get_language_from_request(request)):
        try:
            if layer not in TILE_LAYERS:
                raise Problem(404, "NotFound", _("No tile layer “%(layer)s”.") % {"layer": layer[:40]})
            if not on_postgis():
                raise Problem(404, "NotFound", _("Vector tiles need PostGIS; on this database the map uses GeoJSON "
                                                 "(/api/ and /ogc/)."))
            zoom, column, row = _coordinates(z, x, y)
            kept = _kept_state(layer, zoom, request.user)
            filters = _filters(layer, request)
        except Problem as error:
            return _problem(error)
    data, etag = _built(layer, zoom, column, row, user=request.user, filters=filters, kept=kept)
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=MVT)
    response["ETag"] = etag
    # What a signed-in person sees depends on their role: only anonymous tiles may sit in shared caches.
    signed_in = request.user.is_authenticated
    response["Cache-Control"] = "private, max-age=60" if signed_in else "public, max-age=300"
    response["Vary"] = "Cookie"
    return response
