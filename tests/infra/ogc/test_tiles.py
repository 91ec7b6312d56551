"""/tiles/<layer>/<z>/<x>/<y>.mvt: decoded tiles hold the expected features; caching headers; bad input."""
from __future__ import annotations

import math

import pytest
from django.db import connection  # noqa: F401  (read by the skipif conditions below)

from gis.models import AdminUnit
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
    assert all(set(f["properties"]) == {"code", "name", "category", "stage"} for f in features)
    assert {f["id"] for f in features} >= {register["A-1"].pk}


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
