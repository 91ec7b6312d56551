"""A draft of a demo work, and the state the drafting keeps: random stream, map, names used."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry

from gis.models import AdminUnit
from infra.demo.area import CommuneArea, DemoArea
from infra.demo.geography import RoadSpec, VillageSpec
from infra.demo.spatial import XY, offset_point, square, to_geos_line, to_geos_point, to_geos_polygon

__all__ = ["Draft", "Drafting"]


@dataclass
class Draft:
    category: str
    name: str
    commune_code: str
    approved_commune: AdminUnit
    villages: tuple[str, ...]
    geometry: GEOSGeometry
    # Rough cost in million VND before the total is fitted to the capital plan.
    raw_cost: int
    fields: dict[str, object] = field(default_factory=dict)
    # A road to a village with none yet: kept at an early stage so the gap stays visible.
    new_road: bool = False


class Drafting:
    """The generator's state: the random stream, the map, and what has been used already."""

    def __init__(self, *, rng: random.Random, area: DemoArea, villages: list[VillageSpec], roads: list[RoadSpec], gaps: set[str]):
        self.rng, self.area, self.roads, self.gaps = rng, area, roads, gaps
        self.villages = {v.code: v for v in villages}
        self.names: set[str] = set()
        # What is taken: a road is hardened once and bridged once, a gap closed once, a station per former commune.
        self.upgraded_roads: set[str] = set()
        self.bridged_roads: set[str] = set()
        self.gaps_drafted: set[str] = set()
        self.used_formers: set[str] = set()

    def village(self) -> VillageSpec:
        return self.rng.choice(list(self.villages.values()))

    def commune_villages(self, code: str) -> tuple[str, ...]:
        return tuple(v.code for v in self.villages.values() if v.commune_code == code)

    def place(self, geometry: GEOSGeometry | None) -> CommuneArea | None:
        code = self.area.place(geometry) if geometry is not None else None
        return self.area.communes[code] if code else None

    def near(self, *, origin: XY, polygon: bool = False, low: float = 60, high: float = 400) -> GEOSGeometry | None:
        for _attempt in range(30):
            xy = offset_point(rng=self.rng, origin=origin, min_m=low, max_m=high)
            shape = (
                to_geos_polygon(square(centre=xy, side_m=self.rng.uniform(24, 36), angle=self.rng.uniform(0, math.pi / 2)))
                if polygon
                else to_geos_point(xy)
            )
            if self.place(shape):
                return shape
        return None

    def line(self, *, origin: XY, low: float, high: float) -> GEOSGeometry | None:
        for _attempt in range(30):
            bearing, length, parts = self.rng.uniform(0, 2 * math.pi), self.rng.uniform(low, high), self.rng.randint(2, 4)
            points = [origin]
            for _part in range(parts):
                # Small turns only, so the line can never cross itself.
                turn = bearing + self.rng.uniform(-0.35, 0.35)
                points.append((points[-1][0] + length / parts * math.cos(turn), points[-1][1] + length / parts * math.sin(turn)))
            shape = to_geos_line(points)
            if self.place(shape):
                return shape
        return None

    def draft(
        self,
        *,
        category: str,
        name: str,
        geometry: GEOSGeometry | None,
        villages: tuple[str, ...],
        cost: tuple[int, int],
        commune: CommuneArea | None = None,
        former: AdminUnit | None = None,
        new_road: bool = False,
        **fields: object,
    ) -> Draft | None:
        """Return a draft, or None when the name is taken or the geometry cannot be placed."""
        placed = self.place(geometry)
        if placed is None or name in self.names or (commune is not None and placed.code != commune.code):
            return None
        self.names.add(name)
        return Draft(
            category=category,
            name=name,
            commune_code=placed.code,
            approved_commune=former or self.rng.choice(placed.predecessors),
            villages=villages,
            geometry=geometry,
            raw_cost=self.rng.randint(*cost),
            fields=fields,
            new_road=new_road,
        )
