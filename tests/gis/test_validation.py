"""gis.validation.geometry_check against an area: inside, just outside within the tolerance, and outside,
asked many times of one area object (whose prepared forms it keeps) as an import asks them."""
from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, Point, Polygon
from django.core.exceptions import ValidationError

from gis.validation import geometry_check

pytestmark = pytest.mark.usefixtures("english")

SQUARE = Polygon(((103.0, 22.0), (103.1, 22.0), (103.1, 22.1), (103.0, 22.1), (103.0, 22.0)), srid=4326)
ANY = frozenset({"POINT", "LINESTRING"})


def fits(geometry: GEOSGeometry, area: GEOSGeometry, tolerance: float = 0.0) -> bool:
    try:
        geometry_check(geometry=geometry, allowed_types=ANY, area=area, tolerance_deg=tolerance)
    except ValidationError as error:
        assert "outside" in str(error)
        return False
    return True


CASES = [
    (Point(103.05, 22.05, srid=4326), 0.0, True),
    (Point(103.101, 22.05, srid=4326), 0.0, False),          # 0.001° past the edge
    (Point(103.101, 22.05, srid=4326), 0.002, True),         # … within the tolerance
    (Point(103.103, 22.05, srid=4326), 0.002, False),        # … beyond it
    (LineString((103.05, 22.05), (103.0995, 22.09), srid=4326), 0.0, True),
    (LineString((103.05, 22.05), (103.2, 22.05), srid=4326), 0.002, False),  # crosses out
    (Point(105.85, 21.03, srid=4326), 0.002, False),
]


@pytest.mark.parametrize(("geometry", "tolerance", "expected"), CASES)
def test_a_fresh_area_answers(geometry, tolerance, expected):
    assert fits(geometry, SQUARE.clone(), tolerance) is expected


def test_one_area_asked_many_times_answers_each_as_a_fresh_one():
    area = SQUARE.clone()
    for _ in range(3):
        for geometry, tolerance, expected in CASES + CASES[::-1]:
            assert fits(geometry, area, tolerance) is expected, (geometry.wkt, tolerance)
