"""/tiles/<layer>/<z>/<x>/<y>.mvt: decoded tiles hold the expected features; caching headers; bad input."""
from __future__ import annotations

import math

import pytest
from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.db import connection  # noqa: F401  (read by the skipif conditions below)

from gis.models import AdminUnit, BaseRoad, Village
from infra.accounts.models import Role
from infra.ogc.tiles import feature_limit
from tests.factories import user_with_role
from tests.infra.api.register import PHONG_THO

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
postgis_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="vector tiles are built by PostGIS")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def decode(response) -> dict:
    mapbox_vector_tile = pytest.importorskip("mapbox_vector_tile")
    return mapbox_vector_tile.decode(response.content)


def url(layer: str, z: int, x: int, y: int) -> str:
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt"


@pytest.mark.skipif("connection.vendor == 'postgresql'", reason="SpatiaLite only")
def test_spatialite_says_tiles_need_postgis(client, reference):
    response = client.get(url("works", 0, 0, 0))
    assert response.status_code == 404
    assert "Vector tiles need PostGIS" in response.json()["description"]


@postgis_only
@pytest.mark.parametrize("zoom", [8, 12, 14])
def test_works_tile_holds_the_public_works_there(client, register, zoom):
    response = client.get(url("works", *tile_of(*PHONG_THO, zoom)))
    assert response.status_code == 200 and response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    features = decode(response)["works"]["features"]
    codes = {f["properties"]["code"] for f in features}
    assert "A-1" in codes and not any(code.startswith("P-") for code in codes)
    # Public fields only (road_surface is left out where it is empty).
    public = {"code", "name", "category", "stage", "is_demo"}
    assert all(public <= set(f["properties"]) <= public | {"road_surface"} for f in features)
    assert {f["id"] for f in features} >= {register["A-1"].pk}


@postgis_only
def test_a_line_work_has_its_symbol_point_in_a_second_layer(client, register):
    layers = decode(client.get(url("works", *tile_of(*PHONG_THO, 12))))
    road = next(f for f in layers["works"]["features"] if f["properties"]["code"] == "R-1")
    assert road["geometry"]["type"] == "LineString" and road["properties"]["road_surface"] == "gravel"
    symbols = layers["works-symbols"]["features"]
    # One symbol, for the line only (points are their own symbol), at the line's middle vertex.
    assert [(f["id"], f["geometry"]["type"]) for f in symbols] == [(register["R-1"].pk, "Point")]
    assert symbols[0]["properties"]["category"] == "road"
    assert symbols[0]["geometry"]["coordinates"] == road["geometry"]["coordinates"][-1]   # of two vertices, the second


@postgis_only
@pytest.mark.parametrize("query", ["category=road", "commune=03490@2025-06-30", "commune=03562", "year=2024&q=c%E1%BA%A7u",
                                   "stage=approved,designed&source=local", "category=school&year=2022", "stage=proposed"])
def test_works_tiles_take_the_api_filters(client, register, query):
    # One tile holds the whole register at zoom 8: it must hold exactly what the API answers.
    in_tile = decode(client.get(url("works", *tile_of(*PHONG_THO, 8)) + "?" + query)).get("works", {"features": []})
    in_api = client.get("/api/works/?" + query).json()
    assert {f["properties"]["code"] for f in in_tile["features"]} == {f["properties"]["code"] for f in in_api["features"]}


@postgis_only
@pytest.mark.parametrize("query", ["?category=spa", "?year=nineteen", "?colour=red"])
def test_bad_filters_are_400(client, reference, query):
    response = client.get(url("works", 10, 0, 0) + query)
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameterValue"


@postgis_only
def test_other_layers_take_no_filters(client, reference):
    response = client.get(url("villages", 10, 0, 0) + "?category=road")
    assert response.status_code == 400 and "category" in response.json()["description"]


@postgis_only
def test_village_and_road_tiles_carry_what_their_popups_show(client, register):
    phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    Village.objects.create(code="V-1", name="Bản V-1", commune=phong_tho, location=Point(*PHONG_THO, srid=4326),
                           population=900, households=180, poor_households=45, near_poor_households=20, is_demo=True)
    BaseRoad.objects.create(code="BR-1", name="ĐT 128", road_class="provincial", surface="asphalt", all_season=True,
                            geometry=MultiLineString(LineString((103.35, 22.52), (103.37, 22.54)), srid=4326))
    village = decode(client.get(url("villages", *tile_of(*PHONG_THO, 12))))["villages"]["features"][0]
    assert village["properties"] == {"code": "V-1", "name": "Bản V-1", "population": 900, "households": 180,
                                     "poor_households": 45, "near_poor_households": 20, "commune": "Phong Thổ",
                                     "is_demo": True}
    road = decode(client.get(url("roads", *tile_of(*PHONG_THO, 12))))["roads"]["features"][0]
    assert road["properties"] == {"code": "BR-1", "name": "ĐT 128", "road_class": "provincial", "surface": "asphalt",
                                  "all_season": True, "is_demo": False}


@postgis_only
def test_the_board_sees_proposed_works_in_tiles_too(client, register):
    client.force_login(user_with_role(Role.BOARD))
    response = client.get(url("works", *tile_of(*PHONG_THO, 8)))
    codes = {f["properties"]["code"] for f in decode(response)["works"]["features"]}
    assert {"A-1", "P-1", "P-2"} <= codes
    assert response["Cache-Control"] == "private, max-age=60"


@postgis_only
def test_tiles_carry_an_etag_and_max_age(client, register):
    path = url("works", *tile_of(*PHONG_THO, 10))
    response = client.get(path)
    assert response["Cache-Control"] == "public, max-age=300" and response["ETag"].startswith('"')
    again = client.get(path, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client.get(path, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


@postgis_only
def test_low_zoom_tiles_are_thinned_and_simplified(client, reference):
    assert feature_limit(4) < feature_limit(8) < feature_limit(11) < feature_limit(14)
    total = AdminUnit.objects.filter(level="commune", valid_to__isnull=True).count()
    # At zoom 0 the province is a few pixels: the smallest communes fall below a pixel and are dropped.
    world = decode(client.get(url("communes", 0, 0, 0)))["communes"]["features"]
    assert 0 < len(world) < total and len(world) <= feature_limit(0)
    close = decode(client.get(url("communes", *tile_of(*PHONG_THO, 12))))["communes"]["features"]
    assert any(f["properties"]["code"] == "03549" for f in close)


@postgis_only
def test_a_tile_with_nothing_in_it_is_empty(client, reference):
    response = client.get(url("works", 10, 0, 0))
    assert response.status_code == 200 and decode(response) == {}


@postgis_only
@pytest.mark.parametrize("path", ["/tiles/works/23/0/0.mvt", "/tiles/works/1/2/0.mvt", "/tiles/works/1/0/2.mvt",
                                  "/tiles/works/a/0/0.mvt", "/tiles/works/-1/0/0.mvt", "/tiles/works/1/0/1.5.mvt",
                                  "/tiles/works/999999999/0/0.mvt"])
def test_bad_coordinates_are_400(client, reference, path):
    response = client.get(path)
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameterValue"


def test_unknown_layer_is_404(client, reference):
    assert client.get("/tiles/castles/0/0/0.mvt").status_code == 404
