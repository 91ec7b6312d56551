"""The country's land, provinces, communes, villages and roads, from the synthetic road network."""
from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from synthetic_country import CODE_PREFIX, KX, KY

__all__ = ["ANCHOR", "land", "lonlat", "provinces_and_communes", "roads", "villages"]

ANCHOR = (108.0, 15.5)  # inland Quảng Nam: the middle of the part of the country a smaller scale covers

# The mainland outline (lon, lat), simplified by hand to ~100 points (332,700 km²; the real figure
# is 331,000): the land border from Hà Tiên round to Móng Cái, then the coast back to Hà Tiên.
LAND_BORDER = [
    (104.47, 10.42), (104.95, 10.62), (105.10, 10.95), (105.45, 10.95), (105.85, 10.86), (106.15, 11.02),
    (105.92, 11.30), (105.85, 11.55), (106.20, 11.75), (106.45, 11.68), (106.75, 12.08), (107.20, 12.30),
    (107.55, 12.35), (107.50, 12.80), (107.55, 13.05), (107.48, 13.70), (107.35, 14.05), (107.50, 14.50),
    (107.55, 14.70), (107.45, 15.00), (107.20, 15.40), (107.25, 15.80), (107.10, 16.10), (107.00, 16.30),
    (106.80, 16.45), (106.55, 16.60), (106.55, 17.00), (106.20, 17.40), (105.80, 17.75), (105.40, 18.20),
    (105.10, 18.55), (104.60, 18.80), (104.20, 19.10), (103.90, 19.30), (104.10, 19.65), (104.35, 19.95),
    (104.90, 20.40), (104.60, 20.60), (104.10, 20.85), (103.70, 20.80), (103.30, 21.00), (102.95, 21.45),
    (102.65, 21.75), (102.15, 22.35), (102.14, 22.40), (102.40, 22.65), (102.80, 22.65), (103.30, 22.78),
    (103.95, 22.50), (104.10, 22.75), (104.60, 22.85), (104.90, 23.15), (105.33, 23.39), (105.60, 23.15),
    (106.10, 22.95), (106.55, 22.90), (106.70, 22.80), (106.70, 22.40), (106.80, 22.00), (107.10, 21.90),
    (107.50, 21.70), (107.98, 21.53),
]
COAST = [
    (107.60, 21.25), (107.30, 21.05), (107.05, 20.95), (106.80, 20.75), (106.60, 20.40), (106.35, 20.15),
    (106.05, 19.90), (105.85, 19.55), (105.75, 19.10), (105.72, 18.80), (105.95, 18.45), (106.40, 18.05),
    (106.55, 17.65), (106.65, 17.45), (107.10, 16.90), (107.55, 16.60), (107.90, 16.30), (108.25, 16.10),
    (108.35, 15.85), (108.60, 15.55), (108.85, 15.15), (109.05, 14.60), (109.25, 13.75), (109.30, 13.10),
    (109.45, 12.60), (109.20, 12.25), (109.20, 11.85), (109.05, 11.45), (108.10, 10.92), (107.60, 10.60),
    (107.10, 10.35), (106.75, 10.25), (106.70, 9.95), (106.25, 9.50), (105.75, 9.20), (105.30, 8.85),
    (104.75, 8.58), (104.80, 9.10), (104.85, 9.60), (105.05, 10.00), (104.80, 10.20),
]

# Invented names: syllables combined at random; a result may match a real place and says nothing about it.
_WORDS = ("An", "Bình", "Phú", "Tân", "Hòa", "Long", "Thạnh", "Phước", "Mỹ", "Hưng", "Thành", "Quang", "Minh",
          "Đông", "Tây", "Xuân", "Hải", "Sơn", "Lâm", "Thịnh", "Vĩnh", "Định", "Lộc", "Thuận", "Hợp", "Phong",
          "Cường", "Kim", "Ngọc", "Thái", "Đức", "Khánh", "Hiệp", "Tiến", "Lợi", "Yên", "Hà", "Trung", "Nghĩa")
_HIGHLAND = ("Nà", "Pa", "Sìn", "Lùng", "Huổi", "Phìn", "Tả", "Pắc", "Nậm", "Mường", "Chiềng", "Khoen", "Sì",
             "Củng", "Chải", "Thàng", "Phài", "Lò", "Pó", "Khum", "Páo", "Lìn", "Xin", "Mìn", "Chù", "Giàng")
_PROVINCE_FIRST = ("Bắc", "Nam", "Đông", "Tây", "Trung", "Thượng", "Hạ")
_PROVINCE_SECOND = ("Sơn", "Giang", "Hà", "Bình", "Hải", "Lâm", "Nguyên", "Thủy", "Ninh", "Yên")
_ROAD_LABELS = {"national": "Quốc lộ", "provincial": "Đường tỉnh", "commune": "Đường liên xã",
                "village": "Đường trục thôn", "field": "Đường nội đồng", "track": "Đường mòn"}


def _metres(geometry):
    return shapely.transform(geometry, lambda c: c * (KX, KY))


def lonlat(geometry):
    """Return geometry of the metric frame in longitude/latitude."""
    return shapely.transform(geometry, lambda c: c / (KX, KY))


def land(scale: float) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Return the land a scale covers and the country's land border, in metres.

    Below 1.0, the part of the country inside the square around ANCHOR whose area is `scale` of it.
    """
    country = _metres(shapely.Polygon(LAND_BORDER + COAST))
    border = _metres(shapely.LineString(LAND_BORDER))
    if scale >= 1.0:
        return country, border
    ax, ay = ANCHOR[0] * KX, ANCHOR[1] * KY
    low, high = 0.0, 2e6
    for _ in range(60):  # bisection on the square's half side
        half = (low + high) / 2
        if shapely.intersection(country, shapely.box(ax - half, ay - half, ax + half, ay + half)).area < scale * country.area:
            low = half
        else:
            high = half
    return shapely.intersection(country, shapely.box(ax - high, ay - high, ax + high, ay + high)), border


def _multipolygon(geometry: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geometry)
    return shapely.multipolygons(parts[shapely.get_type_id(parts) == 3])


def _highland(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The north-west mountains and the Central Highlands, where especially difficult communes are common."""
    return ((lat > 20.3) & (lon < 105.6)) | ((lat > 11.6) & (lat < 15.2) & (lon < 108.4))


def _names(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Two distinct syllables each: Tai/Hmong-style in the highlands, Sino-Vietnamese elsewhere."""
    n = len(lon)
    words = np.array(_WORDS, object)
    highland = np.array(_HIGHLAND, object)
    first, shift = rng.integers(0, len(_WORDS), n), rng.integers(1, len(_WORDS), n)
    high_first, high_shift = rng.integers(0, len(_HIGHLAND), n), rng.integers(1, len(_HIGHLAND), n)
    plain = words[first] + " " + words[(first + shift) % len(_WORDS)]
    tai = highland[high_first] + " " + highland[(high_first + high_shift) % len(_HIGHLAND)]
    return np.where(_highland(lon, lat), tai, plain)


def provinces_and_communes(rng: np.random.Generator, area: shapely.Geometry, border: shapely.Geometry,
                           net: dict[str, np.ndarray], n_provinces: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """Return the units (provinces first, then communes), the new position of each of the network's
    communes, and the communes in metres (new order).

    A commune is the Voronoi cell of its centre cut to the land; provinces are k-means groups of
    commune centres. Codes run north to south, as real ones roughly do.
    """
    centre_xy = net["xy"][net["centre_node"]]
    n = len(centre_xy)
    if n == 1:
        cells = np.array([area])
    else:
        cells = shapely.get_parts(shapely.voronoi_polygons(
            shapely.multipoints(centre_xy), extend_to=shapely.box(*area.bounds), ordered=True))
    cells = np.array([_multipolygon(g) for g in shapely.intersection(cells, area)])
    seeds = centre_xy[rng.choice(n, n_provinces, replace=False)]
    for _ in range(10):
        label = cKDTree(seeds).query(centre_xy)[1]
        seeds = np.array([centre_xy[label == k].mean(0) if (label == k).any() else seeds[k] for k in range(n_provinces)])
    seeds = seeds[np.argsort(-seeds[:, 1], kind="stable")]
    label = cKDTree(seeds).query(centre_xy)[1]
    if len(np.unique(label)) < n_provinces:
        raise ValueError("a province was left without communes; try another seed")
    order = np.lexsort((centre_xy[:, 0], -centre_xy[:, 1], label))
    new_position = np.empty(n, np.int64)
    new_position[order] = np.arange(n)
    cells, centre_xy, label = cells[order], centre_xy[order], label[order]
    centre = centre_xy / (KX, KY)

    village_commune = new_position[net["village_commune"]]
    people = np.bincount(village_commune, weights=net["population"], minlength=n) + rng.integers(800, 6000, n)
    poor = np.bincount(village_commune, weights=net["poor"], minlength=n)
    households = np.maximum(poor, np.round(people / rng.uniform(3.8, 4.6, n)))
    near_poor = np.round((households - poor) * rng.uniform(0.05, 0.15, n))
    ward = rng.random(n) < 0.12
    difficult = ~ward & (rng.random(n) < np.where(_highland(*centre.T), 0.4, 0.08))
    on_border = shapely.dwithin(cells, border, 200.0)
    names = _names(rng, *centre.T)
    kinds = np.where(ward, "Phường", "Xã")

    provinces = np.array([_multipolygon(shapely.union_all(cells[label == k])) for k in range(n_provinces)])
    # A province's seat is the commune centre nearest its middle.
    seat = [np.flatnonzero(label == k)[np.argmin(np.hypot(*(centre_xy[label == k] - seeds[k]).T))]
            for k in range(n_provinces)]
    picked = rng.permutation(len(_PROVINCE_FIRST) * len(_PROVINCE_SECOND))[:n_provinces]
    p_names = np.array([f"{_PROVINCE_FIRST[i // len(_PROVINCE_SECOND)]} {_PROVINCE_SECOND[i % len(_PROVINCE_SECOND)]}"
                        for i in picked.tolist()], object)
    p_kinds = np.where(rng.random(n_provinces) < 0.15, "Thành phố", "Tỉnh")

    def both(province_values, commune_values) -> np.ndarray:
        return np.concatenate([province_values, commune_values])

    def summed(values: np.ndarray) -> np.ndarray:
        return both(np.bincount(label, weights=values, minlength=n_provinces), values).astype(np.int64)

    shapes = both(provinces, cells)
    all_names, all_kinds = both(p_names, names), both(p_kinds, kinds)
    units = {
        "level": both(np.full(n_provinces, "province"), np.full(n, "commune")),
        "code": both([f"{CODE_PREFIX}{k + 1:02d}" for k in range(n_provinces)], [f"{CODE_PREFIX}{k + 1:05d}" for k in range(n)]),
        "name": all_names,
        "unit_type": all_kinds,
        "parent": both(np.zeros(n_provinces, np.int64), label + 1),  # 1-based province position; 0 = none
        "boundary": lonlat(shapes),
        "centre": both(centre[seat], centre),
        "centre_address": "Trụ sở UBND " + np.char.lower(all_kinds.astype(str)).astype(object) + " " + all_names,
        "area_km2": shapely.area(shapes) / 1e6,
        "population": summed(people),
        "poor_households": summed(poor),
        "near_poor_households": summed(near_poor),
        "especially_difficult": both(np.zeros(n_provinces, bool), difficult),
        "border": both(np.bincount(label, weights=on_border, minlength=n_provinces) > 0, on_border),
    }
    return units, new_position, cells


def villages(rng: np.random.Generator, net: dict[str, np.ndarray], new_position: np.ndarray,
             commune_codes: np.ndarray) -> dict[str, np.ndarray]:
    """Return the villages (on grid nodes, each in the commune of its nearest centre), by commune and north to south."""
    xy = net["xy"][net["village_node"]]
    commune = new_position[net["village_commune"]]
    order = np.lexsort((xy[:, 0], -xy[:, 1], commune))
    xy, commune = xy[order], commune[order]
    n = len(xy)
    population, poor = net["population"][order].astype(np.int64), net["poor"][order].astype(np.int64)
    households = np.maximum(poor, np.ceil(population / rng.uniform(3.8, 5.0, n))).astype(np.int64)
    near_poor = np.minimum(households - poor, np.round(households * rng.uniform(0.05, 0.15, n))).astype(np.int64)
    number = np.arange(n) - np.searchsorted(commune, commune) + 1  # within the commune
    position = xy / (KX, KY)
    highland, south = _highland(*position.T), position[:, 1] < 11.8
    kind = np.where(highland, "Bản", np.where(south, "Ấp", "Thôn")).astype(object)
    numbered = (rng.random(n) < 0.4) & ~highland  # "Thôn 3", "Ấp 5"
    core = np.where(numbered, number.astype(str).astype(object), _names(rng, *position.T))
    return {
        "code": commune_codes[commune].astype(object) + "-" + np.char.zfill(number.astype(str), 3).astype(object),
        "name": kind + " " + core,
        "commune": commune, "xy": xy, "location": position, "population": population,
        "households": households, "poor_households": poor, "near_poor_households": near_poor,
    }


def roads(rng: np.random.Generator, net: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the road segments: the network's edges, with a surface and class that fit its hardening."""
    n = len(net["source"])
    ends = np.hstack([net["xy"][net["source"]], net["xy"][net["target"]]]) / (KX, KY, KX, KY)
    hardened = net["hardened"]
    hard = np.array(["concrete", "asphalt", "cement"])[rng.choice(3, n, p=[0.55, 0.3, 0.15])]
    soft = np.array(["gravel", "earth"])[rng.choice(2, n, p=[0.45, 0.55])]
    surface = np.where(hardened, hard, soft)
    u = rng.random(n)
    road_class = np.select(
        [surface == "asphalt", hardened, surface == "gravel"],
        [np.where(u < 0.1, "national", np.where(u < 0.5, "provincial", "commune")),
         np.where(u < 0.4, "commune", "village"),
         np.where(u < 0.6, "village", "field")],
        np.where(u < 0.5, "track", np.where(u < 0.75, "field", "village")))
    number = np.arange(1, n + 1).astype(str).astype(object)
    labels = np.vectorize(_ROAD_LABELS.get, otypes=[object])(road_class)
    return {
        "code": f"{CODE_PREFIX}R" + np.char.zfill(number.astype(str), 7).astype(object),
        "name": labels + ", đoạn " + number,
        "road_class": road_class, "surface": surface, "all_season": net["all_season"], "ends": ends,
    }
