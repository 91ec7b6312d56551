"""A small hand-drawn network around the centre of xã Phong Thổ, in metres from that centre.

      V3 (0+1000, +3000)           roads (base):  A  centre → (+1000, 0)   asphalt, all-season
       |  P: proposal, approved,                  B  (+1000, 0) → (+2000, 0) earth, not all-season
       |     concrete, 2,000 million VND       works: W  centre → (-1500, 0) concrete, completed (built)
  V4 --W-- C --A-- V1 --B-- V2                        P  (+1000, 0) → (+1000, +3000) approved (a proposal)
 (-1500)  (0)     (+1000)  (+2000)                    H  (+5000, +5000) → (+6000, +5000) proposed (hidden
                                                         from the public; joins nothing)
Villages: V1 200 people / 20 poor households, V2 300 / 30, V3 400 / 40, V4 100 / 10.
"""
from __future__ import annotations

import numpy as np
import pytest
from django.contrib.gis.geos import LineString, MultiLineString, Point

from gis.crs import METRIC_SRID, WGS84, transform_xy
from gis.models import AdminUnit, BaseRoad, Village
from infra.works.choices import Category, Stage
from tests.factories import WorkFactory


def _lonlat(centre: np.ndarray, *offsets: tuple[float, float]) -> list[tuple[float, float]]:
    xy = np.array([(centre[0] + dx, centre[1] + dy) for dx, dy in offsets])
    return [tuple(p) for p in transform_xy(xy, source=METRIC_SRID, target=WGS84)]


@pytest.fixture
def commune(reference):
    return AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)


@pytest.fixture
def network(commune):
    centre = transform_xy(np.array([commune.centre.coords]), source=WGS84, target=METRIC_SRID)[0]

    def line(*offsets):
        return LineString(_lonlat(centre, *offsets), srid=4326)

    BaseRoad.objects.create(code="A", name="A", road_class="commune", surface="asphalt", all_season=True,
                            geometry=MultiLineString(line((0, 0), (1000, 0)), srid=4326))
    BaseRoad.objects.create(code="B", name="B", road_class="village", surface="earth", all_season=False,
                            geometry=MultiLineString(line((1000, 0), (2000, 0)), srid=4326))
    villages = {}
    for code, offset, people in (("V1", (1000, 0), 200), ("V2", (2000, 0), 300), ("V3", (1000, 3000), 400),
                                 ("V4", (-1500, 0), 100)):
        villages[code] = Village.objects.create(code=code, name=f"Bản {code}", commune=commune,
                                                location=Point(*_lonlat(centre, offset)[0], srid=4326),
                                                population=people, households=people // 5, poor_households=people // 10)
    works = {
        "W": WorkFactory(code="W", category=Category.ROAD, stage=Stage.COMPLETED, road_surface="concrete",
                         all_season=True, geometry=line((0, 0), (-1500, 0)), total_investment=1_000_000_000),
        "P": WorkFactory(code="P", category=Category.ROAD, stage=Stage.APPROVED, road_surface="concrete",
                         all_season=True, geometry=line((1000, 0), (1000, 3000)), total_investment=2_000_000_000),
        "H": WorkFactory(code="H", category=Category.ROAD, stage=Stage.PROPOSED, road_surface="concrete",
                         all_season=True, geometry=line((5000, 5000), (6000, 5000)), total_investment=500_000_000),
    }
    return {"villages": villages, "works": works, "commune": commune}
