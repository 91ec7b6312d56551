"""Where the map's large layers come from: vector tiles on PostGIS, GeoJSON on SpatiaLite (or when turned off)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.gis.geos import LineString, MultiLineString
from django.db import connection  # noqa: F401  (read by the skipif conditions below)
from django.test import Client

from gis.models import BaseRoad
from infra.accounts.models import Role
from tests.e2e.conftest import click_map, map_point, open_map, screenshot
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
postgis_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="vector tiles are built by PostGIS")
spatialite_only = pytest.mark.skipif("connection.vendor == 'postgresql'", reason="SpatiaLite only")

TILED = ("works", "villages", "roads")
R1_MIDDLE = (103.365, 22.535)   # R-1 has two vertices: its symbol sits on the second (tiles.py, _ANCHOR)


def _requests(page) -> list[str]:
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def _tiles(urls: list[str], layer: str) -> list[str]:
    return [u for u in urls if urlsplit(u).path.startswith(f"/tiles/{layer}/") and urlsplit(u).path.endswith(".mvt")]


def _drawn(page, layer: str) -> set[int]:
    return set(page.evaluate(f"window.worksMapFeatures('{layer}')"))


@pytest.fixture
def road(register):
    return BaseRoad.objects.create(
        code="DEMO-R-1", name="Đường bản V-1", road_class="local", surface="earth", is_demo=True,
        geometry=MultiLineString(LineString((103.30, 22.55), (103.36, 22.53)), srid=4326))


@postgis_only
def test_postgis_map_draws_works_villages_and_roads_from_vector_tiles(page, live_server, register, road):
    urls = _requests(page)
    open_map(page, live_server.url + "/")
    for layer in TILED:
        assert _tiles(urls, layer), f"no {layer} tiles were fetched"
    paths = {urlsplit(u).path for u in urls}
    # Those layers' GeoJSON is not fetched; the works API is asked only for the count.
    assert "/api/villages/" not in paths and "/layers/roads.geojson" not in paths
    works_api = [parse_qs(urlsplit(u).query) for u in urls if urlsplit(u).path == "/api/works/"]
    assert works_api and all(q.get("limit") == ["1"] for q in works_api)
    # The public sees the published works only, from tiles as from GeoJSON.
    assert _drawn(page, "works") == {register[c].pk for c in ("A-1", "R-1", "S-1", "B-1", "Q-1")}
    assert len(_drawn(page, "villages")) == 2 and road.pk in _drawn(page, "roads")
    assert page.locator("#map-status").inner_text() == "5 công trình phù hợp"
    # The tiles are drawn above the GeoJSON canvas and take no clicks themselves.
    assert page.evaluate("getComputedStyle(window.worksMap.getPane('vectorTiles')).pointerEvents") == "none"
    assert page.outside_requests == []
    screenshot(page, "map-tiles")


@postgis_only
def test_a_tiled_line_work_shows_its_tooltip_and_opens_its_popup(page, live_server, register):
    open_map(page, live_server.url + "/")
    at = map_point(page, *R1_MIDDLE, zoom=15)
    page.mouse.move(*at)
    assert page.locator(".leaflet-tooltip").inner_text(timeout=5_000) == "Đường bản Nà Giàng"
    page.mouse.click(*at)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "Đường bản Nà Giàng" in text and "R-1" in text and "cấp phối" in text   # gravel, from /api/works/<id>/
    page.wait_for_timeout(400)
    screenshot(page, "map-tiles-popup")
    popup.locator("a").click()
    page.wait_for_url(f"**/works/{register['R-1'].pk}/")


@postgis_only
def test_a_tiled_village_opens_its_popup_marked_demo(page, live_server, register):
    open_map(page, live_server.url + "/")
    click_map(page, 103.30, 22.55, zoom=14)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "Bản V-1" in text and "Phong Thổ" in text and "900" in text
    assert popup.locator(".badge-demo").inner_text() == "minh họa"


@postgis_only
def test_filters_are_sent_with_every_works_tile(page, live_server, register):
    urls = _requests(page)
    open_map(page, live_server.url + "/")
    urls.clear()
    page.check('input[name="category"][value="road"]')
    page.wait_for_function("window.worksMapReady === true && location.search.includes('category=road')")
    works_tiles = _tiles(urls, "works")
    assert works_tiles and all(parse_qs(urlsplit(u).query) == {"category": ["road"]} for u in works_tiles)
    assert not _tiles(urls, "villages") and not _tiles(urls, "roads")   # they do not depend on the filters
    assert _drawn(page, "works") == {register["R-1"].pk}


@postgis_only
def test_a_signed_in_board_sees_proposed_works_in_the_tiles(page, live_server, register):
    # The tiles are fetched with the person's session, so the access policy decides what they hold.
    client = Client()
    client.force_login(user_with_role(Role.BOARD, is_staff=True))
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    try:
        open_map(page, live_server.url + "/")
        assert {register["P-1"].pk, register["P-2"].pk} <= _drawn(page, "works")
    finally:
        page.context.clear_cookies()


@postgis_only
def test_tiles_can_be_turned_off(page, live_server, register, settings):
    settings.MAP_VECTOR_TILES = False
    urls = _requests(page)
    open_map(page, live_server.url + "/")
    assert not any(".mvt" in u for u in urls)
    assert len(_drawn(page, "works")) == 5


@spatialite_only
def test_spatialite_map_uses_geojson_and_fetches_no_tiles(page, live_server, register, road):
    urls = _requests(page)
    open_map(page, live_server.url + "/")
    assert not any(".mvt" in u for u in urls)
    paths = {urlsplit(u).path for u in urls}
    assert {"/api/works/", "/api/villages/", "/layers/roads.geojson"} <= paths
    assert page.evaluate("JSON.parse(document.getElementById('map-config').textContent).tiles") is None
    assert page.locator("script[type=importmap]").count() == 0
    assert len(_drawn(page, "works")) == 5 and len(_drawn(page, "villages")) == 2 and road.pk in _drawn(page, "roads")
    assert page.outside_requests == []
