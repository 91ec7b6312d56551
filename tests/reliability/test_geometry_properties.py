"""Promise 4: geometry input, as properties (hypothesis). Valid in-area geometries are accepted;
self-intersecting, swapped, wrong-SRID, outside, empty and huge ones are refused with a clear
message; a GeoJSON geometry comes back from the API exact to 1e-7°."""
from __future__ import annotations

import itertools
import json

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, Point, Polygon
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.validation import MAX_VERTICES
from infra.accounts.models import Role
from infra.works.choices import Category
from infra.works.services import work_create
from tests.factories import user_with_role
from tests.reliability.conftest import FIGURES, FULL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "reference")]

EXAMPLES = 100 if FULL else 6
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_codes = itertools.count(1)

# Inside xã Phong Thổ, well within Lai Châu.
lon = st.floats(min_value=103.34, max_value=103.38, allow_nan=False)
lat = st.floats(min_value=22.51, max_value=22.55, allow_nan=False)
step = st.floats(min_value=0.0005, max_value=0.01, allow_nan=False)


def _create(geometry, category=Category.CULTURE):
    return work_create(user=None, code=f"G-{next(_codes)}", name="Hình học", category=category, geometry=geometry,
                       approved_year=2024)


def _refused(geometry, words, category=Category.CULTURE):
    with pytest.raises(ValidationError) as caught:
        _create(geometry, category)
    message = " ".join(caught.value.message_dict.get("geometry", caught.value.messages))
    FIGURES["geometry inputs tried"] += 1
    assert any(word in message for word in words), message


@SETTINGS
@given(x=lon, y=lat)
def test_points_in_the_area_are_accepted(x, y):
    work = _create(Point(x, y, srid=4326))
    FIGURES["geometry inputs tried"] += 1
    assert abs(work.geometry.x - x) < 1e-9 and abs(work.geometry.y - y) < 1e-9


@SETTINGS
@given(x=lon, y=lat, dx=step, dy=step)
def test_rectangles_in_the_area_are_accepted_and_bowties_refused(x, y, dx, dy):
    ring = ((x, y), (x + dx, y), (x + dx, y + dy), (x, y + dy), (x, y))
    _create(Polygon(ring, srid=4326), Category.SCHOOL)
    FIGURES["geometry inputs tried"] += 1
    bowtie = ((x, y), (x + dx, y + dy), (x + dx, y), (x, y + dy), (x, y))
    _refused(Polygon(bowtie, srid=4326), ["invalid", "Self-intersection"], Category.SCHOOL)


@SETTINGS
@given(x=lon, y=lat)
def test_swapped_longitude_and_latitude_are_refused(x, y):
    _refused(Point(y, x, srid=4326), ["swapped"])


@SETTINGS
@given(x=lon, y=lat, srid=st.sampled_from([3857, 3405, 32648, 4756, 9210]))
def test_other_srids_are_refused(x, y, srid):
    _refused(Point(x, y, srid=srid), ["EPSG:4326"])


@SETTINGS
@given(x=st.floats(min_value=104.5, max_value=109.0), y=st.floats(min_value=10.0, max_value=21.0))
def test_places_outside_lai_chau_are_refused(x, y):
    _refused(Point(x, y, srid=4326), ["outside Lai Châu"])


@pytest.mark.parametrize("wkt", ["POINT EMPTY", "LINESTRING EMPTY", "POLYGON EMPTY", "MULTIPOINT EMPTY", "GEOMETRYCOLLECTION EMPTY"])
def test_empty_geometries_are_refused(wkt):
    _refused(GEOSGeometry(wkt, srid=4326), ["empty"], Category.ROAD if "LINE" in wkt else Category.CULTURE)


def test_huge_geometries_are_refused():
    n = MAX_VERTICES + 1
    line = LineString([(103.34 + 0.03 * i / n, 22.52 + 0.0001 * (i % 2)) for i in range(n)], srid=4326)
    _refused(line, ["vertices"], Category.ROAD)


@SETTINGS
@given(points=st.lists(st.tuples(lon, lat), min_size=2, max_size=12, unique=True))
def test_geojson_round_trip_through_the_api_is_exact_to_1e_7(client, points):
    board = user_with_role(Role.BOARD, username=f"geo-board-{next(_codes)}")
    client.force_login(board)
    points = [(round(x, 9), round(y, 9)) for x, y in points]
    body = {"code": f"RT-{next(_codes)}", "name": "Đường khứ hồi", "category": "road", "approved_year": 2024,
            "geometry": {"type": "LineString", "coordinates": [list(p) for p in points]}}
    response = client.post("/api/works/", data=json.dumps(body), content_type="application/json")
    FIGURES["geometry inputs tried"] += 1
    if response.status_code == 400:  # a degenerate line (all points collinear back on themselves) may be invalid
        assert "geometry" in response.json()
        return
    assert response.status_code == 201, response.content
    detail = client.get(f"/api/works/{response.json()['id']}/").json()
    geometry = detail.get("geometry") or detail["features"][0]["geometry"]
    back = geometry["coordinates"]
    assert len(back) == len(points)
    for (x, y), (bx, by) in zip(points, back, strict=True):
        assert abs(x - bx) <= 1e-7 and abs(y - by) <= 1e-7
