"""/api/admin-units/, /api/villages/ and /api/village-links/."""
from __future__ import annotations

import json
import math
from datetime import date

import pytest
from django.contrib.gis.geos import Point, Polygon

from gis.models import AdminUnit, Village
from infra.api import schema

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def get(client, url):
    response = client.get(url)
    return response, json.loads(response.content)


def _coordinates(geometry) -> int:
    def count(c):
        return 1 if isinstance(c[0], (int, float)) else sum(count(x) for x in c)
    return count(geometry["coordinates"])


def test_current_communes_with_boundaries(client, reference):
    response, data = get(client, "/api/admin-units/?level=commune")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    expected = AdminUnit.objects.current().filter(level="commune").count()
    assert data["numberMatched"] == len(data["features"]) == expected
    feature = data["features"][0]
    assert set(feature["properties"]) == set(schema.ADMIN_UNIT_PROPERTIES)
    assert {f["geometry"]["type"] for f in data["features"]} == {"MultiPolygon"}
    assert all(f["properties"]["valid_to"] is None for f in data["features"])


def test_former_communes_name_their_successors(client, reference):
    _r, data = get(client, "/api/admin-units/?level=commune&on=2025-06-30")
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    assert len(by_code) == 17
    assert by_code["03562"]["properties"]["name"] == "Vàng Ma Chải"
    assert by_code["03562"]["properties"]["successors"] == ["03562"]
    assert by_code["03490"]["properties"]["successors"] == ["03549"]
    assert by_code["03490"]["geometry"] is None  # no open geometry for pre-2025 communes


def test_code_and_centre(client, reference):
    _r, data = get(client, "/api/admin-units/?code=03562&geometry=centre")
    (feature,) = data["features"]
    assert feature["properties"]["name"] == "Sì Lở Lầu"
    assert feature["geometry"]["type"] == "Point"


def test_zoom_simplifies_boundaries_but_keeps_their_type(client, reference):
    _r, full = get(client, "/api/admin-units/?code=03549")
    _r, coarse = get(client, "/api/admin-units/?code=03549&zoom=9")
    assert coarse["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert _coordinates(coarse["features"][0]["geometry"]) < _coordinates(full["features"][0]["geometry"])


@pytest.mark.parametrize("box", [(103.355, 22.525, 103.365, 22.535), (103.1, 22.3, 103.5, 22.9), (102.0, 21.0, 102.1, 21.1)])
def test_bbox_selects_the_communes_it_touches(client, reference, box):
    _r, data = get(client, "/api/admin-units/?level=commune&bbox=" + ",".join(map(str, box)))
    envelope = Polygon.from_bbox(box)
    expected = sorted(u.code for u in AdminUnit.objects.current().filter(level="commune") if u.boundary.intersects(envelope))
    assert sorted(f["properties"]["code"] for f in data["features"]) == expected


@pytest.mark.parametrize(("query", "field"), [
    ("?level=hamlet", "level"), ("?on=30/06/2025", "on"), ("?geometry=area", "geometry"), ("?code=03;49", "code"),
    ("?bbox=1,2,3", "bbox"), ("?zoom=-1", "zoom"), ("?limit=abc", "limit"), ("?vintage=2022", "non_field_errors"),
])
def test_admin_units_bad_input(client, reference, query, field):
    response, data = get(client, "/api/admin-units/" + query)
    assert response.status_code == 400 and list(data) == [field]


@pytest.fixture
def villages(reference):
    phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    si_lo_lau = AdminUnit.objects.get(level="commune", code="03562", valid_to__isnull=True)
    made = {}
    for code, unit, lon, lat in [("V-1", phong_tho, 103.30, 22.55), ("V-2", phong_tho, 103.37, 22.52),
                                 ("V-3", si_lo_lau, 103.33, 22.74)]:
        made[code] = Village.objects.create(code=code, name=f"Bản {code}", commune=unit, location=Point(lon, lat, srid=4326),
                                            population=500, households=100, poor_households=30, is_demo=True)
    return made


def test_villages_by_commune_of_either_vintage(client, villages):
    _r, data = get(client, "/api/villages/?commune=03549")
    assert [f["properties"]["code"] for f in data["features"]] == ["V-1", "V-2"]
    assert set(data["features"][0]["properties"]) == set(schema.VILLAGE_PROPERTIES)
    assert data["features"][0]["properties"]["is_demo"] is True
    # A former commune's villages are those of the commune it merged into.
    _r, former = get(client, "/api/villages/?commune=03562@2025-06-30")
    assert [f["properties"]["code"] for f in former["features"]] == ["V-3"]
    _r, boxed = get(client, "/api/villages/?bbox=103.36,22.51,103.38,22.53")
    assert [f["properties"]["code"] for f in boxed["features"]] == ["V-2"]


def _metres(a, b) -> float:
    # Haversine on the mean radius: good to well under 1 % at these distances.
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_each_village_links_to_its_commune_centre_not_yet_analysed(client, villages):
    response, data = get(client, "/api/village-links/")
    assert response.status_code == 200
    assert data["numberMatched"] == 3
    centre = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True).centre
    link = next(f for f in data["features"] if f["properties"]["village_code"] == "V-1")
    assert set(link["properties"]) == set(schema.LINK_PROPERTIES)
    assert link["geometry"]["type"] == "LineString"
    start, end = link["geometry"]["coordinates"]
    assert start == pytest.approx([103.30, 22.55]) and end == pytest.approx([centre.x, centre.y], abs=1e-6)
    assert link["properties"]["status"] == "unknown"
    assert link["properties"]["distance_m"] == pytest.approx(_metres(start, end), rel=0.01)
    _r, only = get(client, "/api/village-links/?commune=03562")
    assert [f["properties"]["village_code"] for f in only["features"]] == ["V-3"]


def test_links_crossing_a_box_are_found_though_neither_end_is_in_it(client, villages):
    centre = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True).centre
    mid = ((103.30 + centre.x) / 2, (22.55 + centre.y) / 2)
    _r, data = get(client, f"/api/village-links/?bbox={mid[0] - 0.001},{mid[1] - 0.001},{mid[0] + 0.001},{mid[1] + 0.001}")
    assert [f["properties"]["village_code"] for f in data["features"]] == ["V-1"]


def test_villages_paging_past_the_end(client, villages):
    response, data = get(client, "/api/villages/?offset=3")
    assert response.status_code == 400 and "offset" in data
    response, data = get(client, "/api/villages/?limit=2&offset=2")
    assert response.status_code == 200 and data["numberReturned"] == 1


def test_a_date_vintage_names_the_former_unit(client, reference):
    _r, data = get(client, f"/api/admin-units/?code=03562&on={date(2022, 8, 3).isoformat()}")
    assert [f["properties"]["name"] for f in data["features"]] == ["Vàng Ma Chải"]
