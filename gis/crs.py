"""Coordinate systems: WGS84 for storage, VN-2000 / TM-3 103-00 (EPSG:9205) for measuring.

Only integer EPSG codes from an allow-list ever reach GDAL's spatial-reference parser
(DOMAIN.md §6: GDAL 3.6 cannot stop that parser from reading files or the network).

Geometries are reprojected in bulk: every coordinate of an array of shapely geometries is taken
out, transformed in one GDAL call (as one multipoint) and put back, so a hundred thousand roads
cost one transformation, not a hundred thousand.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import shapely
from django.contrib.gis.gdal import CoordTransform, OGRGeometry, SpatialReference

__all__ = ["ALLOWED_SRIDS", "METRIC_SRID", "WGS84", "transform_geometries", "transform_xy"]

WGS84 = 4326
METRIC_SRID = 9205  # VN-2000 / TM-3 103-00, the provincial zone of Lai Châu
# WGS84, VN-2000 geographic, VN-2000 / TM-3 103-00, VN-2000 / UTM 48N.
ALLOWED_SRIDS = frozenset({WGS84, 4756, METRIC_SRID, 3405})


@cache
def _transform(source: int, target: int) -> CoordTransform:
    for srid in (source, target):
        if not isinstance(srid, int) or srid not in ALLOWED_SRIDS:
            raise ValueError(f"SRID {srid!r} is not in the allow-list {sorted(ALLOWED_SRIDS)}")
    # Built once per pair: creating a transformation costs far more than using it.
    return CoordTransform(SpatialReference(source), SpatialReference(target))


def transform_xy(xy: np.ndarray, *, source: int, target: int) -> np.ndarray:
    """Return an (n, 2) array of x/y (longitude/latitude for geographic systems) in another system."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if source == target or len(xy) == 0:
        return xy.copy()
    cloud = OGRGeometry(memoryview(shapely.to_wkb(shapely.multipoints(xy))))
    cloud.transform(_transform(source, target))
    return shapely.get_coordinates(shapely.from_wkb(bytes(cloud.wkb)))


def transform_geometries(geometries: np.ndarray, *, source: int, target: int) -> np.ndarray:
    """Return an array of shapely geometries with every coordinate transformed (None stays None)."""
    geometries = np.asarray(geometries, dtype=object)
    coords = shapely.get_coordinates(geometries)
    return shapely.set_coordinates(geometries.copy(), transform_xy(coords, source=source, target=target))
