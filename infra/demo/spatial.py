"""Metric geometry helpers for the demo generator (shapely in EPSG:9205, GEOS in WGS84).

Distances and shapes are built in metres (DOMAIN.md §6: VN-2000 / TM-3 103-00 for Lai Châu) and
only then turned into WGS84 for storage, rounded so that the stored coordinates do not depend on
the last bits of a floating-point transformation.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from functools import cache

import shapely
from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = [
    "METRIC_SRID",
    "XY",
    "bent_line",
    "lonlat",
    "metric",
    "offset_point",
    "square",
    "to_geos_line",
    "to_geos_point",
    "to_geos_polygon",
]

METRIC_SRID = 9205
# 1e-7 degree is about 1 cm: far below any survey error, and stable across runs.
DECIMALS = 7

XY = tuple[float, float]


@cache
def _transform(source: int, target: int) -> CoordTransform:
    # Built once: creating a transformation object costs far more than using it.
    return CoordTransform(SpatialReference(source), SpatialReference(target))


def metric(geometry: GEOSGeometry) -> BaseGeometry:
    """Return a WGS84 GEOS geometry as a shapely geometry in metres (EPSG:9205)."""
    projected = geometry.transform(_transform(4326, METRIC_SRID), clone=True)
    return shapely.from_wkb(bytes(projected.wkb))


def lonlat(points: Sequence[XY]) -> list[XY]:
    """Return metric points as rounded (lon, lat) pairs."""
    cloud = MultiPoint([Point(x, y) for x, y in points], srid=METRIC_SRID)
    cloud.transform(_transform(METRIC_SRID, 4326))
    return [(round(p.x, DECIMALS), round(p.y, DECIMALS)) for p in cloud]


def to_geos_point(xy: XY) -> Point:
    ((lon, lat),) = lonlat([xy])
    return Point(lon, lat, srid=4326)


def to_geos_line(points: Sequence[XY]) -> LineString:
    return LineString(lonlat(points), srid=4326)


def to_geos_polygon(ring: Sequence[XY]) -> Polygon:
    coords = lonlat(ring)
    coords.append(coords[0])
    return Polygon(coords, srid=4326)


def offset_point(*, rng: random.Random, origin: XY, min_m: float, max_m: float) -> XY:
    """Return a point at a random bearing and distance from `origin`."""
    bearing = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(min_m, max_m)
    return (origin[0] + distance * math.cos(bearing), origin[1] + distance * math.sin(bearing))


def bent_line(*, rng: random.Random, start: XY, end: XY, bend: float = 0.12) -> list[XY]:
    """Return start → a slightly displaced midpoint → end, as a track up a valley looks on a map."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    shift = rng.uniform(-bend, bend)
    middle = (start[0] + dx / 2 - dy * shift, start[1] + dy / 2 + dx * shift)
    return [start, middle, end]


def square(*, centre: XY, side_m: float, angle: float) -> list[XY]:
    """Return the open ring of a square (a building footprint) turned by `angle` radians."""
    half = side_m / 2
    cos, sin = math.cos(angle), math.sin(angle)
    corners = ((-half, -half), (half, -half), (half, half), (-half, half))
    return [(centre[0] + x * cos - y * sin, centre[1] + x * sin + y * cos) for x, y in corners]
