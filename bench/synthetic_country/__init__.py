"""The synthetic country behind bench/national.py: geography, works, and their rows for COPY.

`geography` and `works` are pure (arrays in, arrays out); `loading` writes through a DB-API cursor.
Geometry is made in a flat frame in metres, x = lon·KX and y = lat·KY (KX taken at 16° N, so
lengths are within ±5 % across the country), and turned into longitude/latitude by the same
affine map, which keeps every containment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CODE_PREFIX", "KX", "KY", "SOURCE", "VERSION", "Dataset"]

VERSION = 1  # bump whenever the rows change, so that reused databases are regenerated
KX = 111_320.0 * math.cos(math.radians(16.0))  # metres per degree of longitude at 16° N
KY = 110_574.0  # metres per degree of latitude
CODE_PREFIX = "NAT"  # every generated code starts with it (real commune codes are digits)
SOURCE = f"synthetic national dataset (bench/national.py v{VERSION})"


@dataclass
class Dataset:
    """Everything to load, as arrays in row order (positions stand for ids; the loader offsets them).

    Coordinates are longitude/latitude: points as (n, 2) arrays, road segments as (n, 4), other
    geometries as shapely arrays.
    """

    scale: float
    seed: int
    counts: dict[str, int]
    units: dict[str, np.ndarray]
    villages: dict[str, np.ndarray]
    roads: dict[str, np.ndarray]
    works: dict[str, np.ndarray]
    bbox: tuple[float, float, float, float]
    timings: dict[str, float] = field(default_factory=dict)
