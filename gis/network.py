"""A road network built from line geometries in metres: snapped, noded, with villages attached.

Pure functions over plain data (shapely geometries in EPSG:9205, numpy arrays); nothing here
knows about works, stages or the database. The steps, all vectorised with shapely 2 and numpy:

1. Explode the lines into parts; cluster part ends lying within `tolerance_m` of each other and
   move each cluster to its centroid (a gap of up to the tolerance is a digitising error).
2. A cluster within `tolerance_m` of another part's interior is moved onto that part, which is
   split there (a T-junction drawn a little short or a little long).
3. Parts are split where they cross or overlap (roads meet at grade) and where a village or a
   commune centre attaches.
4. Villages and centres are nodes of their own, joined by an *access link* to the nearest point
   of the network within `attach_m`; the link's length is the attachment distance.
5. A bridge drawn as a point joins the road ends within `bridge_reach_m` of it (both banks).

Every line carries a `group`: 0 for what is built, k > 0 for proposal k. Proposals are noded
with the rest, so "what if proposal k were built" is the same network with group k switched on.
A village or centre attaches once per group (to the nearest line of that group), so a proposal
passing close to a village is seen even when a built road is nearer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

__all__ = ["BASELINE", "HARDENED_SURFACES", "Graph", "Line", "Network", "Places", "network_build"]

BASELINE = 0
HARDENED_SURFACES = frozenset({"asphalt", "concrete", "cement"})
# Points closer than this are one node (noding arithmetic leaves sub-millimetre differences).
_MERGE_M = 0.005
# A split this close to a part's end is that end.
_END_M = 0.001


@dataclass(frozen=True)
class Line:
    """One input feature: a road ((multi)line) or a bridge (point or short line), in metres."""

    id: str
    geometry: BaseGeometry
    surface: str = "unknown"
    all_season: bool = False
    kind: str = "road"  # "road" or "bridge"
    group: int = BASELINE

    @property
    def hardened(self) -> bool:
        return self.surface in HARDENED_SURFACES


@dataclass(frozen=True)
class Places:
    """Points to attach to the network (villages or commune centres), in metres; NaN = no location."""

    xy: np.ndarray  # (n, 2)

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True)
class Graph:
    """An undirected multigraph as arrays; one entry per edge.

    `access` edges join a village or centre to the network: they count for connectivity but are
    not road (their length is reported as the attachment distance, not as path length).
    `line` is the index of the input line an edge comes from (-1 for access links).
    """

    xy: np.ndarray | None  # (n_nodes, 2) metres, or None when only the topology is known
    n_nodes: int
    source: np.ndarray
    target: np.ndarray
    length: np.ndarray
    hardened: np.ndarray
    all_season: np.ndarray
    group: np.ndarray
    access: np.ndarray
    line: np.ndarray
    geometry: np.ndarray | None = None  # shapely LineString per edge

    @property
    def n_edges(self) -> int:
        return len(self.source)


@dataclass(frozen=True)
class Network:
    """A graph with villages and centres attached: their nodes and attachment distances (baseline)."""

    graph: Graph
    village_node: np.ndarray
    village_attach_m: np.ndarray  # distance to the built network, NaN when none within reach
    centre_node: np.ndarray  # -1 for a centre without a location
    centre_attach_m: np.ndarray
    lines: int
    components: int  # of the built network (roads only, villages and centres left out)


def _parts(lines: list[Line]) -> tuple[np.ndarray, np.ndarray]:
    """Return the line parts (LineStrings, longer than zero) and the index of the line of each."""
    geometries = np.array([line.geometry for line in lines], dtype=object)
    linear = shapely.get_type_id(geometries) != shapely.GeometryType.POINT if len(lines) else np.zeros(0, bool)
    parts, index = shapely.get_parts(np.where(linear, geometries, None), return_index=True)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING) & (shapely.length(parts) > 0)
    return parts[keep], index[keep]


def _snap_ends(parts: np.ndarray, part_group: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, list]:
    """Move part ends that lie within the tolerance of each other, or of another part, together.

    Return the updated parts, the end clusters (cluster id of each of the 2·n ends) and splits
    (part, xy) where a cluster was snapped onto another part's interior.
    """
    n = len(parts)
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(parts, 0)),
                           shapely.get_coordinates(shapely.get_point(parts, -1))])
    end_part = np.concatenate([np.arange(n), np.arange(n)])
    pairs = cKDTree(ends).query_pairs(tolerance, output_type="ndarray") if tolerance > 0 else np.zeros((0, 2), int)
    adjacency = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(2 * n, 2 * n)) if n else None
    _count, cluster = connected_components(adjacency, directed=False) if n else (0, np.zeros(0, int))
    sizes = np.bincount(cluster)
    centroid = np.column_stack([np.bincount(cluster, weights=ends[:, 0]) / sizes,
                                np.bincount(cluster, weights=ends[:, 1]) / sizes])
    # A cluster near another part's interior moves onto it (the nearest such part).
    splits: list = []
    if tolerance > 0 and n:
        first = np.unique(cluster, return_index=True)[1]
        points = shapely.points(centroid[cluster[first]])
        hit_point, hit_part = shapely.STRtree(parts).query(points, predicate="dwithin", distance=tolerance)
        # Parts already ending in the cluster are joined there; only other parts count.
        member = cluster[first][hit_point]
        owned = np.unique(cluster * n + end_part)
        keep = ~np.isin(member * n + hit_part, owned)
        hit_point, hit_part = hit_point[keep], hit_part[keep]
        if len(hit_point):
            distance = shapely.distance(points[hit_point], parts[hit_part])
            # Built roads first: a proposal passing nearby must not take a built road's end away from it.
            order = np.lexsort((hit_part, distance, part_group[hit_part] != BASELINE, hit_point))
            nearest = order[np.unique(hit_point[order], return_index=True)[1]]
            target = parts[hit_part[nearest]]
            on_line = shapely.line_interpolate_point(target, shapely.line_locate_point(target, points[hit_point[nearest]]))
            centroid[cluster[first][hit_point[nearest]]] = shapely.get_coordinates(on_line)
            splits.append((hit_part[nearest], shapely.get_coordinates(on_line)))
    moved = centroid[cluster]
    coords, index = shapely.get_coordinates(parts, return_index=True)
    starts = np.searchsorted(index, np.arange(n))
    stops = np.searchsorted(index, np.arange(n), side="right") - 1
    coords[starts], coords[stops] = moved[:n], moved[n:]
    return shapely.linestrings(coords, indices=index), cluster, splits


def _attach(parts: np.ndarray, part_group: np.ndarray, xy: np.ndarray, reach: float) -> tuple[np.ndarray, ...]:
    """Return attachments: place, part, point on the part and distance — one per place and group."""
    valid = np.isfinite(xy).all(axis=1)
    points = shapely.points(np.where(valid[:, None], xy, 0.0))
    points = np.where(valid, points, None)
    place, part = shapely.STRtree(parts).query(points, predicate="dwithin", distance=reach)
    if len(place) == 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros((0, 2)), np.zeros(0)
    distance = shapely.distance(points[place], parts[part])
    group = part_group[part]
    order = np.lexsort((part, distance, group, place))
    key = place[order] * (int(part_group.max()) + 1) + group[order]
    best = order[np.unique(key, return_index=True)[1]]
    place, part, distance = place[best], part[best], distance[best]
    on_line = shapely.line_interpolate_point(parts[part], shapely.line_locate_point(parts[part], points[place]))
    return place, part, shapely.get_coordinates(on_line), distance


def _crossings(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (part, xy) split points where parts cross, touch or overlap one another."""
    left, right = shapely.STRtree(parts).query(parts, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return np.zeros(0, int), np.zeros((0, 2))
    pieces, pair = shapely.get_parts(shapely.intersection(parts[left], parts[right]), return_index=True)
    kind = shapely.get_type_id(pieces)
    # An overlap splits both parts where it begins and ends.
    linear = kind == shapely.GeometryType.LINESTRING
    points = np.concatenate([pieces[kind == shapely.GeometryType.POINT],
                             shapely.get_point(pieces[linear], 0), shapely.get_point(pieces[linear], -1)])
    pair = np.concatenate([pair[kind == shapely.GeometryType.POINT], pair[linear], pair[linear]])
    xy = shapely.get_coordinates(points)
    return np.concatenate([left[pair], right[pair]]), np.concatenate([xy, xy])


def _split(parts: np.ndarray, split_part: np.ndarray, split_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the parts at the split points; return the pieces and the part of each piece."""
    coords, index = shapely.get_coordinates(parts, return_index=True)
    step = np.zeros(len(coords))
    same = index[1:] == index[:-1]
    step[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    measure = np.cumsum(step)
    measure -= measure[np.searchsorted(index, index)]  # restart at 0 on each part
    lengths = shapely.length(parts)
    m = shapely.line_locate_point(parts[split_part], shapely.points(split_xy)) if len(split_part) else np.zeros(0)
    inner = (m > _END_M) & (m < lengths[split_part] - _END_M)
    split_part, split_xy, m = split_part[inner], split_xy[inner], m[inner]
    rows_part = np.concatenate([index, split_part])
    rows_m = np.concatenate([measure, m])
    rows_xy = np.concatenate([coords, split_xy])
    is_split = np.concatenate([np.zeros(len(index), bool), np.ones(len(split_part), bool)])
    order = np.lexsort((~is_split, rows_m, rows_part))
    rows_part, rows_xy, is_split = rows_part[order], rows_xy[order], is_split[order]
    # Piece id: each part starts one, each split point ends one and starts the next.
    piece = rows_part + np.cumsum(is_split) - is_split
    repeat = np.where(is_split, 2, 1)
    piece = np.repeat(piece, repeat)
    piece[np.cumsum(repeat)[is_split] - 1] += 1  # the second copy of a split starts the next piece
    rows_xy = np.repeat(rows_xy, repeat, axis=0)
    rows_part = np.repeat(rows_part, repeat)
    _ids, piece, counts = np.unique(piece, return_inverse=True, return_counts=True)
    valid = counts[piece] >= 2
    piece = np.unique(piece[valid], return_inverse=True)[1]
    pieces = shapely.linestrings(rows_xy[valid], indices=piece)
    first = np.unique(piece, return_index=True)[1]
    return pieces, rows_part[valid][first]


def _merge_nodes(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return a node id per point, points within a few millimetres being one node, and node xy."""
    pairs = cKDTree(xy).query_pairs(_MERGE_M, output_type="ndarray")
    adjacency = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    count, label = connected_components(adjacency, directed=False)
    # Number nodes by first appearance, so ids do not depend on scipy's labelling.
    first = np.unique(label, return_index=True)[1]
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(count)
    node = rank[label]
    sizes = np.bincount(node)
    node_xy = np.column_stack([np.bincount(node, weights=xy[:, 0]) / sizes, np.bincount(node, weights=xy[:, 1]) / sizes])
    return node, node_xy


def network_build(
    lines: list[Line],
    villages: Places,
    centres: Places,
    *,
    tolerance_m: float = 5.0,
    attach_m: float = 500.0,
    bridge_reach_m: float | None = None,
) -> Network:
    """Build the network of `lines` with villages and centres attached (see the module notes)."""
    reach = tolerance_m if bridge_reach_m is None else bridge_reach_m
    parts, part_line = _parts(lines)
    attrs = np.array([(line.hardened, line.all_season, line.group) for line in lines], dtype=object).reshape(-1, 3)
    line_hardened = attrs[:, 0].astype(bool)
    line_all_season = attrs[:, 1].astype(bool)
    line_group = attrs[:, 2].astype(np.int64)
    if len(parts) == 0:
        return _empty(lines, villages, centres)
    part_group = line_group[part_line]
    parts, _cluster, snapped = _snap_ends(parts, part_group, tolerance_m)
    places_xy = np.concatenate([villages.xy.reshape(-1, 2), centres.xy.reshape(-1, 2)]).astype(float)
    place, place_part, place_point, place_distance = _attach(parts, part_group, places_xy, attach_m)
    cross_part, cross_xy = _crossings(parts)
    split_part = np.concatenate([cross_part, place_part, *[s[0] for s in snapped]]).astype(np.int64)
    split_xy = np.concatenate([cross_xy, place_point, *[s[1] for s in snapped]]).reshape(-1, 2)
    pieces, piece_part = _split(parts, split_part, split_xy)

    # Nodes: piece ends and attachment points merge by position; places and bridges are nodes of their own.
    piece_ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, 0)),
                                 shapely.get_coordinates(shapely.get_point(pieces, -1))])
    road_node, road_xy = _merge_nodes(np.concatenate([piece_ends, place_point]))
    n_pieces, n_road = len(pieces), len(road_xy)
    place_node = n_road + np.arange(len(places_xy))
    node_xy = [road_xy, np.where(np.isfinite(places_xy), places_xy, np.nan)]

    piece_line = part_line[piece_part]
    edges = {
        "source": [road_node[:n_pieces]], "target": [road_node[n_pieces:2 * n_pieces]],
        "length": [shapely.length(pieces)], "hardened": [line_hardened[piece_line]],
        "all_season": [line_all_season[piece_line]], "group": [line_group[piece_line]],
        "access": [np.zeros(n_pieces, bool)], "line": [piece_line], "geometry": [pieces],
    }
    # Access links from each place to its attachment point (one per group within reach).
    attach_node = road_node[2 * n_pieces:]
    _add(edges, source=place_node[place], target=attach_node, length=place_distance,
         hardened=np.ones(len(place), bool), all_season=np.ones(len(place), bool), group=part_group[place_part],
         access=np.ones(len(place), bool), line=np.full(len(place), -1),
         geometry=shapely.linestrings(np.stack([places_xy[place], place_point], axis=1)))
    bridge_xy = _bridges(lines, edges, road_node[: 2 * n_pieces], piece_ends, reach, first_node=n_road + len(places_xy),
                         line_group=line_group)
    node_xy.append(bridge_xy)
    graph = _graph(edges, np.concatenate(node_xy))

    baseline_attach = place_distance[part_group[place_part] == BASELINE]
    attach_m_all = np.full(len(places_xy), np.nan)
    attach_m_all[place[part_group[place_part] == BASELINE]] = baseline_attach
    n_v = len(villages)
    valid_centre = np.isfinite(centres.xy.reshape(-1, 2)).all(axis=1)
    roads = (~graph.access) & (graph.group == BASELINE)
    return Network(
        graph=graph,
        village_node=place_node[:n_v],
        village_attach_m=attach_m_all[:n_v],
        centre_node=np.where(valid_centre, place_node[n_v:], -1),
        centre_attach_m=attach_m_all[n_v:],
        lines=len(lines),
        components=_component_count(graph, roads),
    )


def _add(edges: dict, **columns) -> None:
    for name, values in columns.items():
        edges[name].append(values)


def _bridges(lines: list[Line], edges: dict, end_node: np.ndarray, end_xy: np.ndarray, reach: float, *,
             first_node: int, line_group: np.ndarray) -> np.ndarray:
    """Join the road ends within reach of each bridge point to a node at the bridge; return bridge xy."""
    index = np.array([i for i, line in enumerate(lines)
                      if line.kind == "bridge" and line.geometry.geom_type == "Point"], dtype=np.int64)
    if len(index) == 0 or len(end_xy) == 0:
        return np.zeros((0, 2))
    bridge_xy = shapely.get_coordinates(np.array([lines[i].geometry for i in index], dtype=object))
    near = cKDTree(end_xy).query_ball_point(bridge_xy, reach)
    bridge = np.repeat(np.arange(len(index)), [len(n) for n in near])
    end = np.concatenate([np.asarray(n, dtype=np.int64) for n in near]) if len(bridge) else np.zeros(0, np.int64)
    # One link per bridge and road node, at that node's nearest reached end; a bridge reaching
    # fewer than two nodes joins nothing.
    if len(end) == 0:
        return bridge_xy
    gap = np.hypot(*(bridge_xy[bridge] - end_xy[end]).T)
    order = np.lexsort((gap, end_node[end], bridge))
    _pairs, first = np.unique(np.column_stack([bridge[order], end_node[end[order]]]), axis=0, return_index=True)
    b, end = bridge[order][first], end[order][first]
    joins = np.bincount(b, minlength=len(index))[b] >= 2
    b, end = b[joins], end[joins]
    if len(b) == 0:
        return bridge_xy
    node, node_xy = end_node[end], end_xy[end]
    line = index[b]
    _add(edges, source=first_node + b, target=node, length=np.hypot(*(bridge_xy[b] - node_xy).T),
         hardened=np.array([lines[i].hardened for i in line], bool),
         all_season=np.array([lines[i].all_season for i in line], bool), group=line_group[line],
         access=np.zeros(len(b), bool), line=line,
         geometry=shapely.linestrings(np.stack([bridge_xy[b], node_xy], axis=1)))
    return bridge_xy


def _graph(edges: dict, xy: np.ndarray) -> Graph:
    columns = {name: np.concatenate(values) for name, values in edges.items()}
    loop = columns["source"] == columns["target"]
    columns = {name: values[~loop] for name, values in columns.items()}
    return Graph(
        xy=xy, n_nodes=len(xy), source=columns["source"].astype(np.int64), target=columns["target"].astype(np.int64),
        length=columns["length"].astype(float), hardened=columns["hardened"].astype(bool),
        all_season=columns["all_season"].astype(bool), group=columns["group"].astype(np.int64),
        access=columns["access"].astype(bool), line=columns["line"].astype(np.int64), geometry=columns["geometry"],
    )


def _component_count(graph: Graph, mask: np.ndarray) -> int:
    """Count the connected pieces of road among the edges in `mask` (isolated nodes left out)."""
    nodes = np.unique(np.concatenate([graph.source[mask], graph.target[mask]]))
    if len(nodes) == 0:
        return 0
    s, t = np.searchsorted(nodes, graph.source[mask]), np.searchsorted(nodes, graph.target[mask])
    count, _labels = connected_components(coo_array((np.ones(len(s)), (s, t)), shape=(len(nodes), len(nodes))), directed=False)
    return int(count)


def _empty(lines: list[Line], villages: Places, centres: Places) -> Network:
    n_v, n_c = len(villages), len(centres)
    xy = np.concatenate([villages.xy.reshape(-1, 2), centres.xy.reshape(-1, 2)]).astype(float)
    empty_i, empty_f, empty_b = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    graph = Graph(xy=xy, n_nodes=len(xy), source=empty_i, target=empty_i, length=empty_f, hardened=empty_b,
                  all_season=empty_b, group=empty_i, access=empty_b, line=empty_i, geometry=np.zeros(0, dtype=object))
    valid_centre = np.isfinite(centres.xy.reshape(-1, 2)).all(axis=1)
    return Network(graph=graph, village_node=np.arange(n_v), village_attach_m=np.full(n_v, np.nan),
                   centre_node=np.where(valid_centre, n_v + np.arange(n_c), -1), centre_attach_m=np.full(n_c, np.nan),
                   lines=len(lines), components=0)
