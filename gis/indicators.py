"""Connectivity indicators from plain inputs: per village, per commune, for the whole area.

`connectivity_compute` is the one entry point the application calls: lines (roads, bridges,
proposals) and villages and centres in metres in, plain dataclasses out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gis.connectivity import VillagePaths, components, csr_build, near_all_season, path_geometries, village_paths
from gis.network import BASELINE, Line, Network, Places, network_build
from gis.whatif import Gain, what_if

__all__ = ["AreaIndicators", "CommuneIndicators", "ConnectivityResult", "VillageInputs", "connectivity_compute"]


@dataclass(frozen=True)
class VillageInputs:
    """Villages as arrays: location in metres, the index of their commune in `centres`, people."""

    xy: np.ndarray
    commune: np.ndarray  # index into the centres array; -1 when the commune is unknown
    population: np.ndarray
    poor_households: np.ndarray


class IndicatorShares:
    """The shares derived from the counts (never stored): shared by results in memory and in the database."""

    villages: int
    villages_connected: int
    villages_hardened: int
    people: int
    people_near_all_season: int

    @property
    def share_connected(self) -> float | None:
        return self.villages_connected / self.villages if self.villages else None

    @property
    def share_hardened(self) -> float | None:
        return self.villages_hardened / self.villages if self.villages else None

    @property
    def rural_access_index(self) -> float | None:
        return self.people_near_all_season / self.people if self.people else None


@dataclass(frozen=True)
class AreaIndicators(IndicatorShares):
    """Indicators over a set of villages (one commune, or the whole area)."""

    villages: int
    villages_connected: int
    villages_hardened: int
    people: int
    people_not_connected: int
    poor_households: int
    poor_households_not_connected: int
    people_near_all_season: int



@dataclass(frozen=True)
class CommuneIndicators(AreaIndicators):
    centre: int = -1  # index into the centres array
    centre_attached: bool = False
    centre_attach_m: float | None = None


@dataclass(frozen=True)
class ConnectivityResult:
    network: Network
    paths: VillagePaths
    near_all_season: np.ndarray
    path_geometry: np.ndarray  # MultiLineString in metres per village, or None
    communes: list[CommuneIndicators]
    area: AreaIndicators
    gains: list[Gain] = field(default_factory=list)


def _sums(key: np.ndarray, size: int, paths: VillagePaths, villages: VillageInputs, near: np.ndarray) -> dict:
    """Return each indicator summed per key (0..size-1), in one pass of bincounts."""
    people, poor = villages.population.astype(float), villages.poor_households.astype(float)
    cut = ~paths.connected

    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=size).round().astype(np.int64)

    return {
        "villages": total(None),
        "villages_connected": total(paths.connected.astype(float)),
        "villages_hardened": total(paths.hardened.astype(float)),
        "people": total(people),
        "people_not_connected": total(people * cut),
        "poor_households": total(poor),
        "poor_households_not_connected": total(poor * cut),
        "people_near_all_season": total(people * near),
    }


def _subset(paths: VillagePaths, mask: np.ndarray) -> VillagePaths:
    return VillagePaths(connected=paths.connected[mask], hardened=paths.hardened[mask],
                        all_season_route=paths.all_season_route[mask], path_m=paths.path_m[mask],
                        hardened_m=paths.hardened_m[mask], path_all_season=paths.path_all_season[mask],
                        path_village=paths.path_village[:0], path_edge=paths.path_edge[:0])


def _subset_inputs(villages: VillageInputs, mask: np.ndarray) -> VillageInputs:
    return VillageInputs(xy=villages.xy[mask], commune=villages.commune[mask], population=villages.population[mask],
                         poor_households=villages.poor_households[mask])


def connectivity_compute(
    lines: list[Line],
    villages: VillageInputs,
    centres: np.ndarray,
    *,
    tolerance_m: float = 5.0,
    attach_m: float = 500.0,
    bridge_reach_m: float | None = None,
    access_m: float = 2_000.0,
    scenarios: list[tuple[int, ...]] | None = None,
    paths: bool = True,
) -> ConnectivityResult:
    """Build the network, answer every village and commune, and weigh the proposal scenarios.

    `centres` is an (m, 2) array of commune centres in metres (NaN when a commune has none);
    `scenarios` lists tuples of proposal groups (see gis.network.Line.group) to weigh.
    """
    network = network_build(lines, Places(villages.xy), Places(centres), tolerance_m=tolerance_m, attach_m=attach_m,
                            bridge_reach_m=bridge_reach_m)
    graph = network.graph
    known = villages.commune >= 0
    centre_node = np.where(known, network.centre_node[np.where(known, villages.commune, 0)], -1)
    csr = csr_build(graph, graph.group == BASELINE)
    labels = components(graph)
    result = village_paths(graph, network.village_node, centre_node, paths=paths, csr=csr, labels=labels)
    near = near_all_season(graph, villages.xy, distance_m=access_m)
    known_commune = villages.commune >= 0
    per_commune = _sums(villages.commune[known_commune], len(centres),
                        _subset(result, known_commune), _subset_inputs(villages, known_commune), near[known_commune])
    communes = [
        CommuneIndicators(**{name: int(values[index]) for name, values in per_commune.items()}, centre=index,
                          centre_attached=bool(np.isfinite(network.centre_attach_m[index])),
                          centre_attach_m=float(network.centre_attach_m[index])
                          if np.isfinite(network.centre_attach_m[index]) else None)
        for index in range(len(centres))
    ]
    whole = _sums(np.zeros(len(villages.xy), np.int64), 1, result, villages, near)
    area = AreaIndicators(**{name: int(values[0]) for name, values in whole.items()})
    gains = what_if(graph, village_node=network.village_node, centre_node=centre_node, population=villages.population,
                    poor_households=villages.poor_households, labels=labels[0], hardened_labels=labels[1],
                    connected=result.connected, hardened=result.hardened, scenarios=scenarios or [],
                    village_xy=villages.xy, near_all_season=near, distance_m=access_m)
    geometry = path_geometries(graph, result, len(villages.xy)) if paths else np.full(len(villages.xy), None)
    return ConnectivityResult(network=network, paths=result, near_all_season=near, path_geometry=geometry,
                              communes=communes, area=area, gains=gains)
