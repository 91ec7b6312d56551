"""Synthetic villages and local roads (a tree per commune, with deliberate gaps)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely
from django.contrib.gis.geos import MultiLineString

from gis.models import BaseRoad, RoadClass, RoadSurface, Village
from infra.demo import CHANGE_REASON, MARKER_SOURCE
from infra.demo.area import CommuneArea, DemoArea
from infra.demo.names import VillageName, village_names
from infra.demo.spatial import XY, bent_line, to_geos_line, to_geos_point

__all__ = ["RoadSpec", "VillageSpec", "road_specs", "roads_save", "village_specs", "villages_save"]

MIN_SPACING_M = 600.0
MAX_ROAD_M = 15_000.0
# Surfaces of local roads and how often they occur; hardened ones are more likely near the centre.
_SURFACES = ((RoadSurface.CONCRETE, 0.3), (RoadSurface.ASPHALT, 0.08), (RoadSurface.GRAVEL, 0.27), (RoadSurface.EARTH, 0.35))


@dataclass(frozen=True)
class VillageSpec:
    code: str
    name: VillageName
    commune_code: str
    xy: XY
    population: int
    households: int
    poor_households: int
    near_poor_households: int


@dataclass(frozen=True)
class RoadSpec:
    code: str
    name: str
    commune_code: str
    village_code: str
    # The other end: another village's code, "centre", or a base road's code; and its name in a sentence.
    joins: str
    joins_name: str
    road_class: str
    surface: str
    all_season: bool
    points: tuple[XY, ...]


def _village_people(rng: random.Random) -> tuple[int, int, int, int]:
    population = rng.randint(150, 900)
    households = max(1, round(population / rng.uniform(4.6, 5.4)))
    poor = round(households * rng.uniform(0.2, 0.6))
    near_poor = min(households - poor, round(households * rng.uniform(0.05, 0.15)))
    return population, households, poor, near_poor


def _place(*, rng: random.Random, area: DemoArea, commune: CommuneArea, taken: list[XY]) -> XY | None:
    minx, miny, maxx, maxy = commune.region.bounds
    for _attempt in range(2000):
        xy = (rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not shapely.contains_xy(commune.region, *xy):
            continue
        if any(math.dist(xy, other) < MIN_SPACING_M for other in [*taken, commune.centre]):
            continue
        # The stored point is the rounded WGS84 one: check that one, by the services' own rule.
        if area.fits(to_geos_point(xy), commune_code=commune.code):
            return xy
    return None


def village_specs(*, rng: random.Random, area: DemoArea) -> list[VillageSpec]:
    """Return 5–15 invented villages per demo commune, spread inside its former-Phong-Thổ part."""
    real_names = {commune.unit.name for commune in area.communes.values()}
    real_names |= {former.name for commune in area.communes.values() for former in commune.predecessors}
    specs: list[VillageSpec] = []
    taken: list[XY] = []
    for commune in area.communes.values():
        count = rng.randint(5, 15)
        names = village_names(rng=rng, count=count, avoid=real_names | {spec.name.core for spec in specs})
        for number, name in enumerate(names, start=1):
            xy = _place(rng=rng, area=area, commune=commune, taken=taken)
            if xy is None:
                break
            taken.append(xy)
            population, households, poor, near_poor = _village_people(rng)
            specs.append(
                VillageSpec(
                    code=f"DEMO-V-{commune.code}-{number:02d}",
                    name=name,
                    commune_code=commune.code,
                    xy=xy,
                    population=population,
                    households=households,
                    poor_households=poor,
                    near_poor_households=near_poor,
                )
            )
    return specs


def _surface(rng: random.Random, *, to_centre: bool) -> tuple[str, bool]:
    weights = [w * (2.0 if to_centre and s in (RoadSurface.CONCRETE, RoadSurface.ASPHALT) else 1.0) for s, w in _SURFACES]
    surface = rng.choices([s for s, _w in _SURFACES], weights=weights)[0]
    if surface in (RoadSurface.CONCRETE, RoadSurface.ASPHALT):
        return surface, True
    # Gravel holds up in the rains only where it is well drained; earth never does.
    return surface, surface == RoadSurface.GRAVEL and rng.random() < 0.5


def _gaps(*, rng: random.Random, area: DemoArea, villages: list[VillageSpec]) -> set[str]:
    """Pick remote villages that get no road, so connectivity analysis has something to find."""
    gaps: set[str] = set()
    for commune in area.communes.values():
        own = sorted((v for v in villages if v.commune_code == commune.code), key=lambda v: -math.dist(v.xy, commune.centre))
        if own and rng.random() < 0.7:
            gaps.add(rng.choice(own[:3]).code)
    for commune in area.communes.values():
        if len(gaps) >= 3:
            break
        own = sorted((v for v in villages if v.commune_code == commune.code), key=lambda v: -math.dist(v.xy, commune.centre))
        if own and own[0].code not in gaps:
            gaps.add(own[0].code)
    return gaps


def _targets(*, village: VillageSpec, joined: list[tuple[str, XY]], area: DemoArea) -> list[tuple[float, str, XY]]:
    point = shapely.Point(village.xy)
    options = [(math.dist(village.xy, xy), label, xy) for label, xy in joined]
    for code, _name, line in area.base_roads:
        nearest = line.interpolate(line.project(point))
        options.append((point.distance(nearest), code, (nearest.x, nearest.y)))
    return sorted(options)


def _road_name(*, village: VillageSpec, joins: str, joins_name: str) -> str:
    if joins == "centre":
        return f"Đường từ {joins_name} đến {village.name.in_text}"
    if joins.startswith("DEMO-V-"):
        return f"Đường {village.name.in_text} – {joins_name}"
    return f"Đường nối {village.name.in_text} ra {joins_name}"


def road_specs(*, rng: random.Random, area: DemoArea, villages: list[VillageSpec]) -> tuple[list[RoadSpec], set[str]]:
    """Join villages to their centre, a nearer village or a real road as a tree; return roads and gap villages."""
    gaps = _gaps(rng=rng, area=area, villages=villages)
    labels = {v.code: v.name.in_text for v in villages} | {code: name for code, name, _line in area.base_roads}
    roads: list[RoadSpec] = []
    for commune in area.communes.values():
        joined: list[tuple[str, XY]] = [("centre", commune.centre)]
        labels["centre"] = f"trung tâm {commune.in_text}"
        waiting = [v for v in villages if v.commune_code == commune.code and v.code not in gaps]
        while waiting:
            # Prim's rule: next, the waiting village closest to anything already joined.
            choice = min(((_targets(village=v, joined=joined, area=area)[0], v) for v in waiting), key=lambda item: item[0][0])
            (distance, joins, end), village = choice
            waiting.remove(village)
            points = tuple(bent_line(rng=rng, start=village.xy, end=end))
            line = to_geos_line(points)
            if distance > MAX_ROAD_M or not area.province.contains(line) or not line.valid:
                gaps.add(village.code)  # too far, or it would leave the province: a gap like any other
                continue
            surface, all_season = _surface(rng, to_centre=joins == "centre")
            road_class = (
                RoadClass.TRACK
                if surface == RoadSurface.EARTH
                else (RoadClass.COMMUNE if joins == "centre" else RoadClass.VILLAGE)
            )
            roads.append(
                RoadSpec(
                    code=f"DEMO-R-{commune.code}-{len([r for r in roads if r.commune_code == commune.code]) + 1:02d}",
                    name=_road_name(village=village, joins=joins, joins_name=labels[joins]),
                    commune_code=commune.code,
                    village_code=village.code,
                    joins=joins,
                    joins_name=labels[joins],
                    road_class=road_class,
                    surface=surface,
                    all_season=all_season,
                    points=points,
                )
            )
            joined.append((village.code, village.xy))
    return roads, gaps


def villages_save(*, specs: list[VillageSpec], area: DemoArea) -> dict[str, Village]:
    """Write the villages; return them by code."""
    saved = {}
    for spec in specs:
        village = Village(
            code=spec.code,
            name=spec.name.full,
            commune=area.communes[spec.commune_code].unit,
            location=to_geos_point(spec.xy),
            population=spec.population,
            households=spec.households,
            poor_households=spec.poor_households,
            near_poor_households=spec.near_poor_households,
            is_demo=True,
        )
        village._change_reason = CHANGE_REASON
        village.full_clean()
        village.save()
        saved[spec.code] = village
    return saved


def roads_save(*, specs: list[RoadSpec]) -> None:
    """Write the local roads as base roads, each marked as synthetic in its source."""
    for spec in specs:
        road = BaseRoad(
            code=spec.code,
            name=spec.name,
            road_class=spec.road_class,
            surface=spec.surface,
            all_season=spec.all_season,
            geometry=MultiLineString(to_geos_line(spec.points), srid=4326),
            source=MARKER_SOURCE,
            is_demo=True,
        )
        road._change_reason = CHANGE_REASON
        road.full_clean()
        road.save()
