"""Is each village joined to its commune centre, by how long a path, how hardened, all year?

Compiled graph routines (scipy.sparse.csgraph) over a `Graph`; Python loops run over rounds,
batches of centres or steps along paths, never over the nodes of the network:

- connected components of the built network, of its hardened part and of its all-season part
  answer "is there a route at all / entirely hardened / entirely all-season";
- one multi-source Dijkstra from every commune centre gives each village the path from its
  nearest centre; a village whose nearest centre is another commune's is answered by further
  Dijkstra runs from batches of centres far enough apart that their searches, bounded by
  `limit`, cannot meet (Euclidean distance is a lower bound of path length);
- the attributes of each village's path (length, hardened length, all-season) are summed by
  walking all villages' predecessor chains at once, one vectorised step per edge of the longest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from gis.network import BASELINE, Graph

__all__ = ["Csr", "VillagePaths", "components", "csr_build", "near_all_season", "path_geometries", "route_labels",
           "village_paths"]

# scipy treats a stored weight of zero as an edge, but a strictly positive weight keeps ties simple.
_MIN_WEIGHT = 1e-6
_FIRST_ROUND_MIN_M = 2_000.0
_ROUNDS = 8
# The first search radius, as a multiple of what is known to be needed at least.
_FIRST_GUESS = 1.25


@dataclass(frozen=True)
class Csr:
    """The undirected graph as a symmetric CSR matrix; `edge` maps each stored entry to its edge."""

    matrix: csr_array
    edge: np.ndarray

    @property
    def n_nodes(self) -> int:
        return self.matrix.shape[0]


@dataclass(frozen=True)
class VillagePaths:
    """Per village: whether and how it reaches its own commune centre over the built network."""

    connected: np.ndarray  # a route exists
    hardened: np.ndarray  # a route entirely on hardened roads exists (New Rural Development)
    all_season_route: np.ndarray  # a route entirely on all-season roads exists
    path_m: np.ndarray  # length of the shortest path, road only (NaN when not connected)
    hardened_m: np.ndarray  # hardened length of that path
    path_all_season: np.ndarray  # every road edge of that path is all-season
    path_village: np.ndarray  # with path_edge: the edges of each village's path, when asked for
    path_edge: np.ndarray

    @property
    def hardened_share(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.path_m > 0, self.hardened_m / self.path_m, np.nan)


def _best_edges(graph: Graph, mask: np.ndarray) -> np.ndarray:
    """Return the edges of `mask` keeping, of parallel edges, the shortest (then hardened, all-season)."""
    index = np.flatnonzero(mask & (graph.source != graph.target))
    low = np.minimum(graph.source[index], graph.target[index])
    high = np.maximum(graph.source[index], graph.target[index])
    key = low * graph.n_nodes + high
    ordered = np.sort(key)  # (numpy's hashing unique is slower than a sort at a million keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return index
    # Lengths equal to the millimetre are a tie, broken in favour of the better road.
    order = np.lexsort((~graph.all_season[index], ~graph.hardened[index], np.round(graph.length[index], 3), key))
    first = np.unique(key[order], return_index=True)[1]
    return np.sort(index[order[first]])


def csr_build(graph: Graph, mask: np.ndarray) -> Csr:
    """Return the symmetric CSR of the edges in `mask` (parallel edges reduced to the best one)."""
    index = _best_edges(graph, mask)
    rows = np.concatenate([graph.source[index], graph.target[index]])
    cols = np.concatenate([graph.target[index], graph.source[index]])
    # The stored value is the edge number + 1: pairs are unique, so nothing is summed, and the
    # compiled COO → CSR conversion does the sorting.
    ids = np.concatenate([index, index]).astype(np.float64) + 1
    matrix = coo_array((ids, (rows, cols)), shape=(graph.n_nodes, graph.n_nodes)).tocsr()
    edge = matrix.data.astype(np.int64) - 1
    matrix.data = np.maximum(graph.length[edge], _MIN_WEIGHT)
    if matrix.nnz < np.iinfo(np.int32).max:
        # scipy's csgraph routines work on 32-bit indices and would otherwise copy them on every call.
        matrix.indices, matrix.indptr = matrix.indices.astype(np.int32), matrix.indptr.astype(np.int32)
    return Csr(matrix=matrix, edge=edge)


def _labels(n_nodes: int, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    # Components need each edge once, in any direction; duplicates do no harm.
    ones = np.ones(len(source), dtype=np.float64)
    matrix = coo_array((ones, (source, target)), shape=(n_nodes, n_nodes)).tocsr()
    return connected_components(matrix, directed=False)[1]


def route_labels(n_nodes: int, source: np.ndarray, target: np.ndarray, hardened: np.ndarray,
                 all_season: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return component labels of all edges given, of the hardened ones and of the all-season ones."""
    return (_labels(n_nodes, source, target), _labels(n_nodes, source[hardened], target[hardened]),
            _labels(n_nodes, source[all_season], target[all_season]))


def components(graph: Graph, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return component labels of the built network, of its hardened part and of its all-season part.

    Access links count in all three (they join a place to the road it stands by).
    """
    mask = graph.group == BASELINE if mask is None else mask
    s, t = graph.source[mask], graph.target[mask]
    return route_labels(graph.n_nodes, s, t, (graph.hardened | graph.access)[mask], (graph.all_season | graph.access)[mask])


class _Walker:
    """Sum edge attributes along predecessor chains, for many villages at once."""

    def __init__(self, csr: Csr, graph: Graph, n_villages: int, keep_paths: bool):
        self.csr, self.graph = csr, graph
        self.indptr, self.indices = csr.matrix.indptr, csr.matrix.indices
        self.road_m = np.full(n_villages, np.nan)
        self.hard_m = np.full(n_villages, np.nan)
        self.all_season = np.zeros(n_villages, dtype=bool)
        self.keep_paths = keep_paths
        self.path_village: list[np.ndarray] = []
        self.path_edge: list[np.ndarray] = []

    def _entry(self, node: np.ndarray, towards: np.ndarray) -> np.ndarray:
        """Return the CSR entry of the edge node → towards (each row holds a neighbour once)."""
        start = self.indptr[node]
        degree = self.indptr[node + 1] - start
        found = np.full(len(node), -1, dtype=np.int64)
        live = np.arange(len(node))
        offset = 0
        while len(live):
            k = start[live] + offset
            hit = self.indices[k] == towards[live]
            found[live[hit]] = k[hit]
            offset += 1
            live = live[~hit & (degree[live] > offset)]
        return found

    def walk(self, villages: np.ndarray, nodes: np.ndarray, predecessors: np.ndarray) -> None:
        g = self.graph
        road = np.zeros(len(villages))
        hard = np.zeros(len(villages))
        wet = np.zeros(len(villages), dtype=bool)
        current = nodes.copy()
        live = np.arange(len(villages))
        while len(live):
            previous = predecessors[current[live]]
            live = live[previous >= 0]  # the centre has no predecessor: that walk is done
            if not len(live):
                break
            previous = predecessors[current[live]]
            edge = self.csr.edge[self._entry(current[live], previous)]
            is_road = ~g.access[edge]
            length = np.where(is_road, g.length[edge], 0.0)
            road[live] += length
            hard[live] += np.where(g.hardened[edge], length, 0.0)
            wet[live] |= is_road & ~g.all_season[edge]
            if self.keep_paths:
                self.path_village.append(villages[live])
                self.path_edge.append(edge)
            current[live] = previous
        self.road_m[villages], self.hard_m[villages], self.all_season[villages] = road, hard, ~wet


def _colour(xy: np.ndarray, separation: float) -> np.ndarray:
    """Return a batch number per point such that points of one batch are more than `separation` apart."""
    pairs = cKDTree(xy).query_pairs(separation, output_type="ndarray")
    neighbours: list[list[int]] = [[] for _ in range(len(xy))]
    for a, b in pairs.tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    colour = np.full(len(xy), -1, dtype=np.int64)
    for point in range(len(xy)):  # greedy colouring of the centres (a few thousand at most)
        taken = {colour[other] for other in neighbours[point]}
        colour[point] = next(c for c in range(len(xy) + 1) if c not in taken)
    return colour


def _resolve_in_batches(csr: Csr, xy: np.ndarray, pending: np.ndarray, vnode: np.ndarray, cnode: np.ndarray,
                        guess: np.ndarray, walker: _Walker) -> np.ndarray:
    """Answer the pending villages from their own centres, many centres per Dijkstra run.

    `guess` is a first search radius per village; a village not reached within it is tried
    again with twice the radius. Return the villages still pending after the rounds.
    """
    radius = guess.copy()
    for _round in range(_ROUNDS):
        if not len(pending):
            break
        centres, where = np.unique(cnode[pending], return_inverse=True)
        need = np.zeros(len(centres))
        np.maximum.at(need, where, radius[pending])
        # Radii grouped in powers of √2, so that one search limit serves a whole class.
        steps = np.ceil(2 * np.log2(np.maximum(need, _FIRST_ROUND_MIN_M) / _FIRST_ROUND_MIN_M))
        limit = _FIRST_ROUND_MIN_M * np.sqrt(2.0) ** steps
        still = []
        for value in np.unique(limit):
            in_class = np.flatnonzero(limit == value)
            batches = _colour(xy[centres[in_class]], 2 * value)
            for batch in np.unique(batches):
                sources = centres[in_class[batches == batch]]
                dist, pred, src = dijkstra(csr.matrix, directed=True, indices=sources, min_only=True,
                                           return_predecessors=True, limit=value)
                mine = pending[np.isin(cnode[pending], sources)]
                done = (src[vnode[mine]] == cnode[mine]) & (dist[vnode[mine]] <= value)
                walker.walk(mine[done], vnode[mine[done]], pred)
                still.append(mine[~done])
        pending = np.concatenate(still) if still else pending[:0]
        radius[pending] *= 2
    return pending


def village_paths(graph: Graph, village_node: np.ndarray, centre_node: np.ndarray, *, paths: bool = False,
                  shortest: bool = True, csr: Csr | None = None,
                  labels: tuple[np.ndarray, ...] | None = None) -> VillagePaths:
    """Answer every village over the built network (group 0).

    `centre_node[i]` is the node of village i's own commune centre, -1 when it has none.
    With `paths`, the edges of each path are returned too (for drawing it); without `shortest`
    only the route questions are answered (components alone) and path figures stay NaN.
    """
    csr = csr or csr_build(graph, graph.group == BASELINE)
    whole, hardened, all_season = labels or components(graph)
    n = len(village_node)
    has_centre = centre_node >= 0
    cnode = np.where(has_centre, centre_node, 0)
    connected = has_centre & (whole[village_node] == whole[cnode])
    walker = _Walker(csr, graph, n, paths)
    pending = np.flatnonzero(connected) if shortest else np.zeros(0, np.int64)
    if len(pending):
        sources = np.unique(cnode[pending])
        dist, pred, src = dijkstra(csr.matrix, directed=True, indices=sources, min_only=True, return_predecessors=True)
        own = src[village_node[pending]] == cnode[pending]
        walker.walk(pending[own], village_node[pending[own]], pred)
        pending = pending[~own]
        if len(pending) and graph.xy is not None:
            straight = np.hypot(*(graph.xy[village_node] - graph.xy[cnode]).T)
            guess = _FIRST_GUESS * np.maximum(straight, np.nan_to_num(dist[village_node], posinf=0.0))
            pending = _resolve_in_batches(csr, graph.xy, pending, village_node, cnode, guess, walker)
        for centre in np.unique(cnode[pending]):  # the rare far detour: one full search per centre
            mine = pending[cnode[pending] == centre]
            _dist, pred = dijkstra(csr.matrix, directed=True, indices=int(centre), return_predecessors=True)
            walker.walk(mine, village_node[mine], pred)
    path_village = np.concatenate(walker.path_village) if walker.path_village else np.zeros(0, np.int64)
    path_edge = np.concatenate(walker.path_edge) if walker.path_edge else np.zeros(0, np.int64)
    return VillagePaths(
        connected=connected,
        hardened=connected & (hardened[village_node] == hardened[cnode]),
        all_season_route=connected & (all_season[village_node] == all_season[cnode]),
        path_m=np.where(connected, walker.road_m, np.nan),
        hardened_m=np.where(connected, walker.hard_m, np.nan),
        path_all_season=connected & walker.all_season,
        path_village=path_village,
        path_edge=path_edge,
    )


def path_geometries(graph: Graph, result: VillagePaths, n_villages: int) -> np.ndarray:
    """Return each village's path as a MultiLineString (None when it has no path or no road on it)."""
    out = np.full(n_villages, None, dtype=object)
    road = ~graph.access[result.path_edge]
    village, edge = result.path_village[road], result.path_edge[road]
    if len(edge) and graph.geometry is not None:
        order = np.argsort(village, kind="stable")
        village, edge = village[order], edge[order]
        lines = shapely.multilinestrings(graph.geometry[edge], indices=np.unique(village, return_inverse=True)[1])
        out[np.unique(village)] = lines
    return out


def near_all_season(graph: Graph, village_xy: np.ndarray, *, distance_m: float = 2_000.0,
                    extra_group: int | None = None) -> np.ndarray:
    """Whether each village lies within `distance_m` of a built all-season road (or of group `extra_group`'s)."""
    groups = [BASELINE] if extra_group is None else [extra_group]
    mask = np.isin(graph.group, groups) & graph.all_season & ~graph.access
    near = np.zeros(len(village_xy), dtype=bool)
    if not mask.any() or graph.geometry is None:
        return near
    valid = np.isfinite(village_xy).all(axis=1)
    points = np.where(valid, shapely.points(np.where(valid[:, None], village_xy, 0.0)), None)
    hit, _road = shapely.STRtree(graph.geometry[mask]).query(points, predicate="dwithin", distance=distance_m)
    near[hit] = True
    return near

