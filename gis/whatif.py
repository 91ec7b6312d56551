"""What if a proposed road were built: which villages would it join to their commune centre?

A proposal joins components of the built network. So the question needs no new shortest-path
search: label the built network's components once, turn each proposal's edges into links
between those components, and ask for each unconnected village whether the links of the
proposal (or of a set of proposals) put its component and its centre's component together —
one connected-components run over a graph as small as the proposals, for all of them at once.
The same over the hardened part of the network answers "newly joined by a hardened route".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from gis.network import BASELINE, Graph

__all__ = ["Gain", "what_if"]


@dataclass(frozen=True)
class Gain:
    """What a proposal, or a set of proposals, would add if built."""

    groups: tuple[int, ...]
    villages: int  # villages newly joined to their commune centre
    people: int
    poor_households: int
    villages_hardened: int  # villages newly joined by a route entirely hardened
    people_hardened: int
    poor_households_hardened: int
    people_near_all_season: int  # people newly within reach of an all-season road (Rural Access Index)


def _joined(labels: np.ndarray, graph: Graph, edge_mask: np.ndarray, scenarios: list[tuple[int, ...]],
            village_node: np.ndarray, centre_node: np.ndarray, waiting: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (scenario, village) pairs where the scenario's edges join a waiting village to its centre."""
    n_scenarios = len(scenarios)
    member_group = np.concatenate([np.asarray(s, dtype=np.int64) for s in scenarios]) if scenarios else np.zeros(0, np.int64)
    member_scenario = np.repeat(np.arange(n_scenarios), [len(s) for s in scenarios])
    edges = np.flatnonzero(edge_mask & (graph.group != BASELINE))
    # Each edge of group g is a link in every scenario that contains g.
    order = np.argsort(member_group, kind="stable")
    lo = np.searchsorted(member_group[order], graph.group[edges])
    hi = np.searchsorted(member_group[order], graph.group[edges], side="right")
    count = hi - lo
    edge = np.repeat(edges, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    scenario = member_scenario[order][np.repeat(lo, count) + offset]
    a, b = labels[graph.source[edge]], labels[graph.target[edge]]
    width = int(labels.max()) + 1 if len(labels) else 1
    keys, inverse = np.unique(np.concatenate([scenario * width + a, scenario * width + b]), return_inverse=True)
    if not len(keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n_links = len(edge)
    links = coo_array((np.ones(n_links), (inverse[:n_links], inverse[n_links:])), shape=(len(keys), len(keys)))
    joined = connected_components(links, directed=False)[1]
    # For each waiting village, every scenario touching its component.
    village_comp = labels[village_node[waiting]]
    key_comp, key_scenario = keys % width, keys // width
    by_comp = np.lexsort((key_scenario, key_comp))
    lo = np.searchsorted(key_comp[by_comp], village_comp)
    hi = np.searchsorted(key_comp[by_comp], village_comp, side="right")
    count = hi - lo
    village = np.repeat(waiting, count)
    pick = by_comp[np.repeat(lo, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)]
    scen = key_scenario[pick]
    centre_key = scen * width + labels[centre_node[village]]
    at = np.minimum(np.searchsorted(keys, centre_key), len(keys) - 1)
    ok = (keys[at] == centre_key) & (joined[at] == joined[pick])
    return scen[ok], village[ok]


def _near(graph: Graph, scenarios: list[tuple[int, ...]], village_xy: np.ndarray, far: np.ndarray,
          distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (scenario, village) pairs where a scenario's all-season road comes within reach of a far village."""
    mask = (graph.group != BASELINE) & graph.all_season & ~graph.access
    if not mask.any() or graph.geometry is None or not far.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    index = np.flatnonzero(far)
    hit, road = shapely.STRtree(graph.geometry[mask]).query(shapely.points(village_xy[index]), predicate="dwithin",
                                                            distance=distance_m)
    village, group = index[hit], graph.group[mask][road]
    pairs = [np.column_stack([np.full(np.isin(group, s).sum(), k), village[np.isin(group, s)]])
             for k, s in enumerate(scenarios)]
    pairs = np.unique(np.concatenate(pairs), axis=0) if pairs else np.zeros((0, 2), np.int64)
    return pairs[:, 0], pairs[:, 1]


def what_if(
    graph: Graph,
    *,
    village_node: np.ndarray,
    centre_node: np.ndarray,
    population: np.ndarray,
    poor_households: np.ndarray,
    labels: np.ndarray,
    hardened_labels: np.ndarray,
    connected: np.ndarray,
    hardened: np.ndarray,
    scenarios: list[tuple[int, ...]],
    village_xy: np.ndarray | None = None,
    near_all_season: np.ndarray | None = None,
    distance_m: float = 2_000.0,
) -> list[Gain]:
    """Return the gain of each scenario (a tuple of proposal groups built together).

    `labels`/`hardened_labels` are the component labels of the built network and of its
    hardened part; `connected`/`hardened` the villages' present state (gis.connectivity).
    """
    has_centre = centre_node >= 0
    centre = np.where(has_centre, centre_node, 0)
    counts = {}
    for name, base, lab, mask in (("any", connected, labels, np.ones(graph.n_edges, bool)),
                                  ("hardened", hardened, hardened_labels, graph.hardened | graph.access)):
        waiting = np.flatnonzero(has_centre & ~base)
        counts[name] = _joined(lab, graph, mask, scenarios, village_node, centre, waiting)
    if village_xy is not None and near_all_season is not None:
        counts["near"] = _near(graph, scenarios, village_xy, ~near_all_season, distance_m)
    else:
        counts["near"] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    n = len(scenarios)

    def total(pair: tuple[np.ndarray, np.ndarray], weights: np.ndarray | None) -> np.ndarray:
        scen, village = pair
        return np.bincount(scen, weights=None if weights is None else weights[village], minlength=n).astype(np.int64)

    any_, hard, near = counts["any"], counts["hardened"], counts["near"]
    v, p, ph = total(any_, None), total(any_, population), total(any_, poor_households)
    vh, pph, phh = total(hard, None), total(hard, population), total(hard, poor_households)
    pn = total(near, population)
    return [Gain(groups=tuple(scenarios[k]), villages=int(v[k]), people=int(p[k]), poor_households=int(ph[k]),
                 villages_hardened=int(vh[k]), people_hardened=int(pph[k]), poor_households_hardened=int(phh[k]),
                 people_near_all_season=int(pn[k])) for k in range(n)]
