"""Published works: points, lines and footprints near a village, inside its commune, with stages and money."""
from __future__ import annotations

import numpy as np
import shapely

from synthetic_country import CODE_PREFIX, KX, KY
from synthetic_country.geography import lonlat

__all__ = ["works"]

KINDS = ("point", "line", "polygon")
# Geometry kinds (exact shares: 80 / 15 / 5 %) and the categories each holds (DOMAIN.md: the geometry each may take).
_MIX = {
    "point": (0.80, {"school": 0.25, "water": 0.2, "culture": 0.15, "health": 0.1, "irrigation": 0.1,
                     "electricity": 0.08, "bridge": 0.07, "other": 0.05}),
    "line": (0.15, {"road": 0.6, "irrigation": 0.15, "water": 0.1, "electricity": 0.1, "bridge": 0.05}),
    "polygon": (0.05, {"school": 0.5, "culture": 0.25, "health": 0.2, "other": 0.05}),
}
CATEGORIES = ("health", "school", "water", "irrigation", "road", "bridge", "electricity", "culture", "other")
# Public stages only (the public sees works from investment approval on): share, first and last plan year.
_STAGES = {"approved": (0.08, 2025, 2026), "designed": (0.07, 2025, 2026), "contracted": (0.07, 2024, 2026),
           "under_construction": (0.18, 2023, 2026), "completed": (0.15, 2021, 2024),
           "handed_over": (0.10, 2021, 2024), "in_operation": (0.33, 2021, 2024), "suspended": (0.02, 2022, 2025)}
_STARTED = ("under_construction", "completed", "handed_over", "in_operation", "suspended")
_FINISHED = ("completed", "handed_over", "in_operation")
_LATEST = np.datetime64("2026-10-31")  # nothing has happened after this
# Approved total investment in million VND, log-uniform between the bounds (roads: per km).
_COST = {"health": (2000, 8000), "school": (1500, 8000), "water": (300, 3500), "irrigation": (500, 4500),
         "road": (1800, 3500), "bridge": (400, 9000), "electricity": (500, 5000), "culture": (300, 2500),
         "other": (200, 2000)}
_LINE_M = {"road": (500, 6000), "irrigation": (300, 3000), "water": (300, 4000), "electricity": (500, 5000),
           "bridge": (20, 150), "other": (100, 1000)}
_FOOTPRINT_M = {"school": (50, 140), "health": (30, 80), "culture": (30, 90), "other": (20, 70)}
_PREFIX = {("water", "point"): "Công trình nước", ("water", "line"): "Tuyến ống nước sinh hoạt",
           ("irrigation", "point"): "Đập dâng", ("irrigation", "line"): "Kênh mương", ("road", "line"): "Đường giao thông",
           ("bridge", "point"): "Ngầm tràn", ("bridge", "line"): "Cầu", ("electricity", "point"): "Trạm biến áp",
           ("electricity", "line"): "Đường điện", ("culture", "point"): "Nhà văn hóa", ("culture", "polygon"): "Nhà văn hóa",
           ("other", "point"): "Công trình công cộng", ("other", "polygon"): "Chợ"}
_SCHOOLS = {"preschool": "Trường mầm non", "primary": "Trường tiểu học", "lower_secondary": "Trường THCS"}


def _table(values: dict, keys: tuple[str, ...], default=(1.0, 1.0)) -> np.ndarray:
    return np.array([values.get(k, default) for k in keys], float)


def _log_uniform(rng: np.random.Generator, bounds: np.ndarray) -> np.ndarray:
    return np.exp(rng.uniform(np.log(bounds[:, 0]), np.log(bounds[:, 1])))


def _lines(rng: np.random.Generator, anchor: np.ndarray, reach: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Random walks from the anchors, shrunk to stay within 90 % of `reach` of them (so inside their commune)."""
    n = len(anchor)
    vertices = np.where(category == CATEGORIES.index("bridge"), 2, rng.integers(3, 7, n))
    length = _log_uniform(rng, _table(_LINE_M, CATEGORIES)[category])
    steps = vertices - 1
    first_step = np.cumsum(steps) - steps
    turn = rng.normal(0.0, 0.45, steps.sum())
    turned = np.cumsum(turn)
    heading = np.repeat(rng.uniform(0, 2 * np.pi, n), steps) + turned - np.repeat(turned[first_step] - turn[first_step], steps)
    step = np.column_stack([np.cos(heading), np.sin(heading)]) * np.repeat(length / steps, steps)[:, None]
    walked = np.cumsum(step, axis=0)
    walked -= np.repeat(walked[first_step] - step[first_step], steps, axis=0)
    first_vertex = np.cumsum(vertices) - vertices
    offsets = np.zeros((vertices.sum(), 2))
    later = np.ones(len(offsets), bool)
    later[first_vertex] = False
    offsets[later] = walked
    shrink = np.minimum(1.0, 0.9 * reach / np.maximum.reduceat(np.hypot(*offsets.T), first_vertex))
    owner = np.repeat(np.arange(n), vertices)
    return shapely.linestrings(anchor[owner] + offsets * shrink[owner, None], indices=owner)


def _footprints(rng: np.random.Generator, anchor: np.ndarray, reach: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Rotated rectangles around the anchors, shrunk to stay within 90 % of `reach` of them."""
    n = len(anchor)
    width = rng.uniform(*_table(_FOOTPRINT_M, CATEGORIES)[category].T)
    depth = width * rng.uniform(0.5, 1.0, n)
    angle = rng.uniform(0, np.pi, n)
    shrink = np.minimum(1.0, 0.9 * reach / (np.hypot(width, depth) / 2))
    unit = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], float) / 2
    local = unit[None, :, :] * (np.column_stack([width, depth]) * shrink[:, None])[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    corners = np.stack([local[..., 0] * cos - local[..., 1] * sin, local[..., 0] * sin + local[..., 1] * cos], axis=-1)
    rings = shapely.linearrings((corners + anchor[:, None, :]).reshape(-1, 2), indices=np.repeat(np.arange(n), 5))
    return shapely.polygons(rings)


def _place(rng: np.random.Generator, kind: np.ndarray, category: np.ndarray, village_xy: np.ndarray,
           commune: np.ndarray, cells: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each work's position (lon/lat; the point itself for points), its line or footprint
    (lon/lat; None for points) and its length in metres, inside its commune.

    Positions are drawn around the work's village until one lies in the commune (checked in
    longitude/latitude); a line or footprint is kept within 90 % of the position's distance to the
    commune's edge and checked again; whatever fails is drawn again.
    """
    position = np.zeros((len(kind), 2))
    shape = np.full(len(kind), None, object)
    length = np.zeros(len(kind))
    todo = np.arange(len(kind))
    while todo.size:
        anchor = village_xy[todo] + rng.normal(0.0, 400.0, (len(todo), 2))
        lon, lat = anchor[:, 0] / KX, anchor[:, 1] / KY
        fits = shapely.contains_xy(cells[commune[todo]], lon, lat)
        extended = np.flatnonzero(fits & (kind[todo] != KINDS.index("point")))
        if extended.size:
            mine = todo[extended]
            reach = shapely.distance(edges[commune[mine]], shapely.points(anchor[extended]))
            shaped = np.empty(len(mine), object)
            for index, make in ((KINDS.index("line"), _lines), (KINDS.index("polygon"), _footprints)):
                these = kind[mine] == index
                shaped[these] = make(rng, anchor[extended][these], reach[these], category[mine][these])
            in_lonlat = lonlat(shaped)
            kept = (reach >= 5.0) & shapely.contains(cells[commune[mine]], in_lonlat)
            shape[mine[kept]], length[mine[kept]] = in_lonlat[kept], shapely.length(shaped[kept])
            fits[extended[~kept]] = False
        position[todo[fits]] = np.column_stack([lon, lat])[fits]
        todo = todo[~fits]
    return position, shape, length


def works(rng: np.random.Generator, n: int, villages: dict[str, np.ndarray], units: dict[str, np.ndarray],
          n_provinces: int, cells_m: np.ndarray) -> dict[str, np.ndarray]:
    """Return `n` published works in random order, each near a random village and inside its commune."""
    counts = [round(n * _MIX[k][0]) for k in KINDS[1:]]
    kind = rng.permutation(np.repeat(np.arange(len(KINDS)), [n - sum(counts), *counts]))
    category = np.empty(n, np.int64)
    for index, name in enumerate(KINDS):
        mine = kind == index
        mix = _MIX[name][1]
        category[mine] = rng.choice([CATEGORIES.index(c) for c in mix], mine.sum(), p=list(mix.values()))
    village = rng.integers(0, len(villages["code"]), n)
    commune = villages["commune"][village]
    cells = units["boundary"][n_provinces:]
    shapely.prepare(cells)
    position, shape, length = _place(rng, kind, category, villages["xy"][village], commune, cells,
                                     shapely.boundary(cells_m))

    names = np.array(list(_STAGES))
    stage_index = rng.choice(len(names), n, p=[v[0] for v in _STAGES.values()])
    stage = names[stage_index]
    first, last = np.array([v[1:] for v in _STAGES.values()]).T
    year = rng.integers(first[stage_index], last[stage_index] + 1)
    planned_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(60, 240, n)
    duration = rng.integers(180, 720, n)
    started, finished = np.isin(stage, _STARTED), np.isin(stage, _FINISHED)
    actual_start = np.minimum(planned_start + rng.integers(0, 120, n), _LATEST)
    actual_end = np.minimum(actual_start + (duration * rng.uniform(0.9, 1.4, n)).astype(int), _LATEST)
    progress = np.select([finished, stage == "under_construction", stage == "suspended"],
                         [100, rng.integers(5, 96, n), rng.integers(10, 81, n)], 0)

    label = np.array(CATEGORIES)[category]
    cost = _log_uniform(rng, _table(_COST, CATEGORIES)[category])
    cost = np.where(label == "road", cost * np.maximum(length / 1000, 0.3), cost)
    total = np.round(cost).astype(np.int64) * 1_000_000
    special = (total <= 5_000_000_000) & (rng.random(n) < 0.3)  # Decree 27/2022: small works only
    wide = np.isin(label, ["health", "school"])  # they serve several villages
    served = villages["households"][village] * np.where(wide, rng.uniform(2.0, 6.0, n), rng.uniform(0.3, 1.0, n))
    households = np.maximum(1, np.round(served)).astype(np.int64)
    poor = np.round(households * rng.uniform(0.15, 0.6, n)).astype(np.int64)
    women = np.round(households * rng.uniform(1.7, 2.3, n)).astype(np.int64)

    school = np.array(list(_SCHOOLS))[rng.choice(3, n, p=[0.45, 0.35, 0.2])]
    water = np.array(["piped", "drilled_well", "dug_well", "spring"])[rng.choice(4, n, p=[0.45, 0.2, 0.15, 0.2])]
    road_class = np.array(["commune", "village", "field"])[rng.choice(3, n, p=[0.3, 0.5, 0.2])]
    surface = np.array(["concrete", "cement", "asphalt", "gravel"])[rng.choice(4, n, p=[0.75, 0.1, 0.05, 0.1])]
    u = rng.random(n)
    all_season = np.where(label == "road", np.where(surface == "gravel", u < 0.3, u < 0.92), u < 0.85)
    is_road = label == "road"

    # Names: what it is, then where (a health station is the commune's, everything else a village's).
    prefix = np.array([[_PREFIX.get((c, k), "") for k in KINDS] for c in CATEGORIES], object)[category, kind]
    prefix = np.where(label == "school", np.vectorize(_SCHOOLS.get, otypes=[object])(school), prefix)
    commune_names = (np.char.lower(units["unit_type"][n_provinces:].astype(str)).astype(object) + " "
                     + units["name"][n_provinces:])
    place = np.where(label == "health", commune_names[commune], villages["name"][village])
    prefix = np.where(label == "health", "Trạm y tế", prefix)
    return {
        "code": f"{CODE_PREFIX}W-" + year.astype(str).astype(object) + "-"
                + np.char.zfill(np.arange(1, n + 1).astype(str), 7).astype(object),
        "name": prefix + " " + place, "category": label,
        "school_level": np.where(label == "school", school, ""), "water_source": np.where(label == "water", water, ""),
        "road_class": np.where(is_road, road_class, ""), "road_surface": np.where(is_road, surface, ""),
        "all_season": all_season, "all_season_known": is_road | (label == "bridge"),
        "position": position, "shape": shape, "commune": commune, "beneficiary_households": households,
        "beneficiary_poor_households": poor, "beneficiary_women": women, "special_mechanism": special,
        "approved_year": year, "total_investment": total, "stage": stage, "progress": progress,
        "planned_start": planned_start, "planned_end": planned_start + duration,
        "actual_start": np.where(started, actual_start, np.datetime64("NaT")),
        "actual_end": np.where(finished, actual_end, np.datetime64("NaT")),
    }
