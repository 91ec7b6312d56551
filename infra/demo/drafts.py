"""What each demo work is: category, name, place, geometry, details, people served, rough cost.

Names follow how boards write them ("Nhà văn hóa bản Nà Củng"); the villages are invented.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import shapely
from shapely.ops import substring

from gis.models import HARDENED_SURFACES, RoadClass, RoadSurface
from infra.demo.area import DemoArea
from infra.demo.drafting import Draft, Drafting
from infra.demo.geography import RoadSpec, VillageSpec
from infra.demo.spatial import bent_line, to_geos_line, to_geos_point
from infra.works.choices import Category, SchoolLevel, WaterSource

__all__ = ["CATEGORY_COUNTS", "work_drafts"]

# 160 works; every category present, roads and water the most common, as in the district's lists.
CATEGORY_COUNTS = {
    Category.ROAD: 34,
    Category.WATER: 22,
    Category.SCHOOL: 20,
    Category.IRRIGATION: 18,
    Category.CULTURE: 18,
    Category.ELECTRICITY: 14,
    Category.OTHER: 13,
    Category.BRIDGE: 12,
    Category.HEALTH: 9,
}


def _health(d: Drafting) -> Draft | None:
    free = [(c, f) for c in d.area.communes.values() for f in c.predecessors if f.code not in d.used_formers]
    commune, former = d.rng.choice(free)
    # The former commune with the same code as today's was its seat: the station stands by the centre.
    origin = commune.centre if former.code == commune.code else d.villages[d.rng.choice(d.commune_villages(commune.code))].xy
    template = d.rng.choice(["Trạm y tế {f}", "Cải tạo, nâng cấp Trạm y tế {f}"])
    work = d.draft(
        category=Category.HEALTH,
        name=template.format(f=f"{former.unit_type.lower()} {former.name}"),
        geometry=d.near(origin=origin, polygon=d.rng.random() < 0.3),
        villages=d.commune_villages(commune.code),
        cost=(2000, 6000),
        commune=commune,
        former=former,
    )
    if work:
        d.used_formers.add(former.code)
    return work


def _school(d: Drafting) -> Draft | None:
    level = d.rng.choices(list(SchoolLevel), weights=[0.45, 0.35, 0.2])[0]
    polygon = d.rng.random() < 0.25
    if level == SchoolLevel.LOWER_SECONDARY:
        commune = d.rng.choice(list(d.area.communes.values()))
        former = d.rng.choice(commune.predecessors)
        return d.draft(
            category=Category.SCHOOL,
            name=f"Nhà lớp học Trường PTDTBT THCS {former.unit_type.lower()} {former.name}",
            geometry=d.near(origin=commune.centre, polygon=polygon, low=150, high=900),
            villages=d.commune_villages(commune.code),
            cost=(3000, 8000),
            commune=commune,
            former=former,
            school_level=level,
        )
    village = d.village()
    template = "Điểm trường mầm non {v}" if level == SchoolLevel.PRESCHOOL else "Phòng học kiên cố điểm trường tiểu học {v}"
    return d.draft(
        category=Category.SCHOOL,
        name=template.format(v=village.name.in_text),
        geometry=d.near(origin=village.xy, polygon=polygon),
        villages=(village.code,),
        cost=(1000, 5000),
        school_level=level,
    )


def _water(d: Drafting) -> Draft | None:
    village = d.village()
    source = d.rng.choices(list(WaterSource), weights=[0.3, 0.2, 0.15, 0.35])[0]
    piped = source in (WaterSource.PIPED, WaterSource.SPRING) and d.rng.random() < 0.6
    # A pipeline is drawn from the village up to its source; a well or spring head is a point.
    shape = d.line(origin=village.xy, low=600, high=2500) if piped else d.near(origin=village.xy, low=30, high=250)
    template = {
        WaterSource.DRILLED_WELL: "Giếng khoan cấp nước sinh hoạt {v}",
        WaterSource.DUG_WELL: "Giếng đào có thành bảo vệ {v}",
    }.get(source, "Công trình nước sinh hoạt {v}")
    return d.draft(
        category=Category.WATER,
        name=template.format(v=village.name.in_text),
        geometry=shape,
        villages=(village.code,),
        cost=(300, 3000),
        water_source=source,
    )


def _irrigation(d: Drafting) -> Draft | None:
    village = d.village()
    if d.rng.random() < 0.65:
        name = d.rng.choice([f"Kênh thủy lợi {village.name.core}", f"Kênh mương nội đồng {village.name.in_text}"])
        return d.draft(
            category=Category.IRRIGATION,
            name=name,
            geometry=d.line(origin=village.xy, low=400, high=2000),
            villages=(village.code,),
            cost=(500, 5000),
        )
    return d.draft(
        category=Category.IRRIGATION,
        name=f"Đập dâng thủy lợi {village.name.in_text}",
        geometry=d.near(origin=village.xy, low=200, high=900),
        villages=(village.code,),
        cost=(500, 4000),
    )


def _upgrade_name(d: Drafting, *, road: RoadSpec) -> tuple[str, tuple[str, ...]]:
    """Return the name of the work that hardens a road, and the villages it serves."""
    village = d.villages[road.village_code]
    if road.joins == "centre":
        return f"Đường bê tông từ {village.name.in_text} đến {road.joins_name}", (village.code,)
    if road.joins in d.villages:
        return f"Cứng hóa đường {village.name.in_text} – {road.joins_name}", (village.code, road.joins)
    return f"Đường bê tông nối {village.name.in_text} ra {road.joins_name}", (village.code,)


def _road(d: Drafting) -> Draft | None:
    waiting_gaps = sorted(d.gaps - d.gaps_drafted)
    if waiting_gaps:
        village = d.villages[waiting_gaps[0]]
        d.gaps_drafted.add(village.code)
        commune = d.area.communes[village.commune_code]
        joined = [(v.xy, v) for v in d.villages.values() if v.commune_code == commune.code and v.code not in d.gaps]
        end, other = min([(commune.centre, None), *joined], key=lambda item: math.dist(item[0], village.xy))
        name = (
            f"Đường bê tông từ {village.name.in_text} đến trung tâm {commune.in_text}"
            if other is None
            else f"Mở mới đường {village.name.in_text} – {other.name.in_text}"
        )
        return d.draft(
            category=Category.ROAD,
            name=name,
            geometry=to_geos_line(bent_line(rng=d.rng, start=village.xy, end=end)),
            villages=(village.code,) + ((other.code,) if other else ()),
            cost=(3000, 10000),
            new_road=True,
            road_class=RoadClass.VILLAGE,
            road_surface=RoadSurface.CONCRETE,
            all_season=True,
        )
    upgradable = [r for r in d.roads if r.surface not in HARDENED_SURFACES and r.code not in d.upgraded_roads]
    if upgradable and d.rng.random() < 0.6:
        road = d.rng.choice(upgradable)
        d.upgraded_roads.add(road.code)
        line = shapely.LineString(road.points)
        # Often only the village end is hardened in one go; the rest waits for the next plan.
        part = substring(line, 0, d.rng.uniform(0.5, 1.0), normalized=True) if d.rng.random() < 0.5 else line
        name, served = _upgrade_name(d, road=road)
        cost = max(500, min(10000, round(part.length / 1000 * d.rng.uniform(1500, 3000))))
        return d.draft(
            category=Category.ROAD,
            name=name,
            geometry=to_geos_line(list(part.coords)),
            villages=served,
            cost=(cost, cost),
            road_class=RoadClass.VILLAGE if road.road_class == RoadClass.TRACK else road.road_class,
            road_surface=RoadSurface.CONCRETE,
            all_season=True,
        )
    village = d.village()
    field_road = d.rng.random() < 0.5
    name = f"Đường giao thông nội đồng {village.name.in_text}" if field_road else f"Đường trục chính {village.name.in_text}"
    return d.draft(
        category=Category.ROAD,
        name=name,
        geometry=d.line(origin=village.xy, low=300, high=2000),
        villages=(village.code,),
        cost=(500, 3000),
        road_class=RoadClass.FIELD if field_road else RoadClass.VILLAGE,
        road_surface=RoadSurface.CONCRETE,
        all_season=True,
    )


def _bridge(d: Drafting) -> Draft | None:
    road = d.rng.choice([r for r in d.roads if r.code not in d.bridged_roads])
    d.bridged_roads.add(road.code)
    # Where the road crosses a stream: somewhere along its middle.
    crossing = shapely.LineString(road.points).interpolate(d.rng.uniform(0.3, 0.7), normalized=True)
    village = d.villages[road.village_code]
    kind, cost = d.rng.choice([("Cầu treo", (2000, 6000)), ("Ngầm tràn", (500, 2000)), ("Cầu bê tông", (1500, 6000))])
    return d.draft(
        category=Category.BRIDGE,
        name=f"{kind} {village.name.in_text}",
        geometry=to_geos_point((crossing.x, crossing.y)),
        villages=(village.code,),
        cost=cost,
    )


def _electricity(d: Drafting) -> Draft | None:
    village = d.village()
    if d.rng.random() < 0.5:
        return d.draft(
            category=Category.ELECTRICITY,
            name=f"Trạm biến áp {village.name.in_text}",
            geometry=d.near(origin=village.xy, low=50, high=300),
            villages=(village.code,),
            cost=(800, 4000),
        )
    return d.draft(
        category=Category.ELECTRICITY,
        name=f"Đường dây hạ thế {village.name.in_text}",
        geometry=d.line(origin=village.xy, low=500, high=2500),
        villages=(village.code,),
        cost=(500, 3000),
    )


def _culture(d: Drafting) -> Draft | None:
    village = d.village()
    kind = d.rng.choice(["Nhà văn hóa", "Nhà văn hóa", "Sân thể thao"])
    return d.draft(
        category=Category.CULTURE,
        name=f"{kind} {village.name.in_text}",
        geometry=d.near(origin=village.xy, polygon=d.rng.random() < 0.4, low=40, high=300),
        villages=(village.code,),
        cost=(500, 3000),
    )


def _other(d: Drafting) -> Draft | None:
    village = d.village()
    kind = d.rng.choice(["store", "waste", "embankment", "market"])
    if kind == "embankment":
        return d.draft(
            category=Category.OTHER,
            name=f"Kè chống sạt lở {village.name.in_text}",
            geometry=d.line(origin=village.xy, low=100, high=500),
            villages=(village.code,),
            cost=(800, 2000),
        )
    if kind == "market":
        commune = d.area.communes[village.commune_code]
        return d.draft(
            category=Category.OTHER,
            name=f"Chợ nông thôn trung tâm {commune.in_text}",
            geometry=d.near(origin=commune.centre, polygon=True, low=100, high=500),
            villages=d.commune_villages(commune.code),
            cost=(1000, 2000),
            commune=commune,
        )
    name = (
        f"Nhà lưu giữ nông sản cộng đồng {village.name.in_text}"
        if kind == "store"
        else f"Lò đốt rác thải sinh hoạt {village.name.in_text}"
    )
    return d.draft(
        category=Category.OTHER,
        name=name,
        geometry=d.near(origin=village.xy, low=80, high=400),
        villages=(village.code,),
        cost=(300, 1500),
    )


_MAKERS: dict[str, Callable[[Drafting], Draft | None]] = {
    Category.HEALTH: _health,
    Category.SCHOOL: _school,
    Category.WATER: _water,
    Category.IRRIGATION: _irrigation,
    Category.ROAD: _road,
    Category.BRIDGE: _bridge,
    Category.ELECTRICITY: _electricity,
    Category.CULTURE: _culture,
    Category.OTHER: _other,
}


def work_drafts(
    *, rng: random.Random, area: DemoArea, villages: list[VillageSpec], roads: list[RoadSpec], gaps: set[str]
) -> list[Draft]:
    """Return one draft per planned work, category by category, in a fixed order."""
    drafting = Drafting(rng=rng, area=area, villages=villages, roads=roads, gaps=gaps)
    drafts: list[Draft] = []
    for category, count in CATEGORY_COUNTS.items():
        made = 0
        for _attempt in range(count * 20):
            if made == count:
                break
            draft = _MAKERS[category](drafting)
            if draft is not None:
                drafts.append(draft)
                made += 1
        if made < count:
            raise RuntimeError(f"demo generator could only place {made} of {count} {category} works")
    return drafts
