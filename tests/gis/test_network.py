"""Connectivity on small hand-drawn networks whose answers are worked out by hand.

Coordinates are metres (as in EPSG:9205). Unless a test says otherwise: snapping tolerance 5 m,
attachment distance 500 m, the commune centre at the origin, one village of 100 people and
10 poor households.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point

from gis.connectivity import csr_build, village_paths
from gis.indicators import VillageInputs, connectivity_compute
from gis.network import Graph, Line


def road(id: str, *coords, surface="asphalt", all_season=True, group=0) -> Line:
    return Line(id=id, geometry=LineString(coords), surface=surface, all_season=all_season, group=group)


def villages(*xy, commune=None, population=100, poor=10) -> VillageInputs:
    n = len(xy)
    return VillageInputs(
        xy=np.array(xy, dtype=float).reshape(-1, 2),
        commune=np.array(commune if commune is not None else [0] * n),
        population=np.full(n, population),
        poor_households=np.full(n, poor),
    )


def run(lines, village_inputs, centres=((0, 0),), **options):
    return connectivity_compute(lines, village_inputs, np.array(centres, dtype=float), **options)


def test_a_village_at_the_end_of_a_hardened_all_season_road_is_connected():
    result = run([road("a", (0, 0), (1000, 0))], villages((1000, 0)))

    paths = result.paths
    assert paths.connected[0] and paths.hardened[0] and paths.path_all_season[0]
    assert paths.path_m[0] == pytest.approx(1000)
    assert paths.hardened_share[0] == pytest.approx(1.0)
    assert result.network.village_attach_m[0] == pytest.approx(0)
    assert result.path_geometry[0].length == pytest.approx(1000)


def test_a_disconnected_component_leaves_its_village_unconnected():
    lines = [road("a", (0, 0), (1000, 0)), road("b", (3000, 0), (4000, 0))]

    result = run(lines, villages((4000, 0)))

    assert result.network.components == 2
    assert not result.paths.connected[0]
    assert np.isnan(result.paths.path_m[0])
    assert result.communes[0].people_not_connected == 100
    assert result.communes[0].poor_households_not_connected == 10
    assert result.path_geometry[0] is None


@pytest.mark.parametrize(("gap", "joined"), [(4.9, True), (5.1, False)])
def test_a_gap_just_under_the_tolerance_is_snapped_and_just_over_is_not(gap, joined):
    lines = [road("a", (0, 0), (1000, 0)), road("b", (1000 + gap, 0), (2000, 0))]

    result = run(lines, villages((2000, 0)), tolerance_m=5.0)

    assert result.paths.connected[0] is np.bool_(joined)
    assert result.network.components == (1 if joined else 2)
    if joined:  # both ends moved to their midpoint: 1000 + gap/2 and 1000 - gap/2
        assert result.paths.path_m[0] == pytest.approx(2000)


@pytest.mark.parametrize(("gap", "joined"), [(4.9, True), (5.1, False)])
def test_a_t_junction_drawn_short_is_snapped_onto_the_road_within_the_tolerance(gap, joined):
    lines = [road("main", (0, 0), (1000, 0)), road("branch", (500, gap), (500, 800))]

    result = run(lines, villages((500, 800)))

    assert result.paths.connected[0] is np.bool_(joined)
    if joined:  # 500 along the main road, then the branch from the snapped end up to y = 800
        assert result.paths.path_m[0] == pytest.approx(500 + 800)


def test_roads_crossing_are_joined_where_they_cross():
    lines = [road("ew", (0, 0), (1000, 0)), road("ns", (500, -500), (500, 500))]

    result = run(lines, villages((500, 500)))

    assert result.paths.path_m[0] == pytest.approx(1000)


def test_a_bridge_joins_the_road_ends_on_both_banks():
    banks = [road("west", (0, 0), (1000, 0)), road("east", (1040, 0), (2000, 0))]
    bridge = Line(id="bridge", geometry=Point(1020, 0), surface="concrete", all_season=True, kind="bridge")

    without = run(banks, villages((2000, 0)))
    joined = run([*banks, bridge], villages((2000, 0)), bridge_reach_m=25)
    too_short = run([*banks, bridge], villages((2000, 0)), bridge_reach_m=15)

    assert not without.paths.connected[0]
    assert joined.paths.connected[0] and joined.paths.hardened[0]
    assert joined.paths.path_m[0] == pytest.approx(1000 + 20 + 20 + 960)
    assert not too_short.paths.connected[0]


def test_a_path_half_hardened_has_share_one_half_and_is_not_all_season():
    lines = [road("concrete", (0, 0), (1000, 0), surface="concrete"),
             road("earth", (1000, 0), (2000, 0), surface="earth", all_season=False)]

    result = run(lines, villages((2000, 0)))

    paths = result.paths
    assert paths.connected[0]
    assert paths.path_m[0] == pytest.approx(2000)
    assert paths.hardened_share[0] == pytest.approx(0.5)
    assert not paths.hardened[0]
    assert not paths.path_all_season[0] and not paths.all_season_route[0]
    assert result.communes[0].villages_connected == 1 and result.communes[0].villages_hardened == 0


def test_a_hardened_road_drawn_over_an_earth_road_is_the_one_travelled():
    lines = [road("earth", (0, 0), (1000, 0), surface="earth", all_season=False),
             road("upgrade", (0, 0), (1000, 0), surface="concrete")]

    result = run(lines, villages((1000, 0)))

    assert result.paths.hardened[0]
    assert result.paths.hardened_share[0] == pytest.approx(1.0)
    assert result.paths.path_all_season[0]


@pytest.mark.parametrize(("distance", "near"), [(1900, True), (2100, False)])
def test_rural_access_counts_villages_within_2_km_of_an_all_season_road(distance, near):
    lines = [road("all-season", (0, 0), (10_000, 0)),
             road("dry-season", (0, 3000), (10_000, 3000), surface="earth", all_season=False)]

    result = run(lines, villages((5000, -distance)))

    assert result.near_all_season[0] is np.bool_(near)
    assert result.area.people_near_all_season == (100 if near else 0)
    assert result.area.rural_access_index == (1.0 if near else 0.0)


def test_a_village_attaches_to_the_nearest_point_of_a_road_and_reports_the_distance():
    result = run([road("a", (0, 0), (1000, 0))], villages((600, 120), (600, 700)))

    assert result.network.village_attach_m[0] == pytest.approx(120)
    assert result.paths.path_m[0] == pytest.approx(600)  # road only; the 120 m is the attachment
    assert np.isnan(result.network.village_attach_m[1])  # 700 m > 500 m: not attached
    assert not result.paths.connected[1]


def test_a_village_nearer_another_centre_is_measured_from_its_own():
    # Two communes on one road; village of commune 0 sits 100 m from commune 1's centre.
    lines = [road("a", (0, 0), (2000, 0))]

    result = run(lines, villages((1900, 0), (2000, 0), commune=[0, 1]), centres=((0, 0), (2000, 0)))

    assert result.paths.path_m.tolist() == pytest.approx([1900, 0])
    assert [c.villages_connected for c in result.communes] == [1, 1]


def test_a_commune_without_a_centre_has_no_connected_village():
    result = run([road("a", (0, 0), (1000, 0))], villages((1000, 0)), centres=((np.nan, np.nan),))

    assert not result.paths.connected[0]
    assert not result.communes[0].centre_attached


def test_a_proposal_joining_two_components_gains_their_villages():
    lines = [road("centre side", (0, 0), (1000, 0)), road("far side", (2000, 0), (3000, 0)),
             road("proposal", (1000, 0), (2000, 0), surface="concrete", group=1),
             road("useless", (5000, 5000), (6000, 5000), group=2)]
    inputs = villages((3000, 0), (2500, 0), (500, 0))

    result = run(lines, inputs, scenarios=[(1,), (2,), (1, 2)])

    assert result.paths.connected.tolist() == [False, False, True]
    joins, useless, both = result.gains
    assert (joins.villages, joins.people, joins.poor_households) == (2, 200, 20)
    assert (joins.villages_hardened, joins.people_hardened) == (2, 200)
    assert (useless.villages, useless.people) == (0, 0)
    assert (both.groups, both.villages) == ((1, 2), 2)


def test_a_proposal_passing_a_village_off_the_network_attaches_it():
    lines = [road("a", (0, 0), (1000, 0)),
             road("proposal", (1000, 0), (1000, 3000), group=1)]

    result = run(lines, villages((1200, 2500)), scenarios=[(1,)])

    assert np.isnan(result.network.village_attach_m[0])  # nothing built within 500 m
    assert result.gains[0].villages == 1


def test_an_upgrade_gains_a_hardened_route_but_no_new_connection():
    lines = [road("earth", (0, 0), (1000, 0), surface="earth", all_season=False),
             road("upgrade", (0, 0), (1000, 0), surface="concrete", group=1)]

    result = run(lines, villages((1000, 0)), scenarios=[(1,)])

    gain = result.gains[0]
    assert (gain.villages, gain.villages_hardened, gain.people_hardened) == (0, 1, 100)


def test_a_proposed_all_season_road_brings_far_villages_within_reach():
    lines = [road("a", (0, 0), (1000, 0)), road("proposal", (1000, 0), (1000, 10_000), group=1)]

    result = run(lines, villages((2500, 8000)), scenarios=[(1,)])

    assert result.gains[0].people_near_all_season == 100


def test_paths_match_a_brute_force_search_from_each_villages_own_centre():
    # A random grid network with many communes: the batched searches must give exactly what a
    # separate search from each centre gives.
    rng = np.random.default_rng(7)
    side = 60
    xy = np.array([(x * 300.0, y * 300.0) for y in range(side) for x in range(side)]) + rng.uniform(-50, 50, (side * side, 2))
    ids = np.arange(side * side).reshape(side, side)
    s = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    t = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(len(s)) < 0.7
    s, t = s[keep], t[keep]
    length = np.hypot(*(xy[s] - xy[t]).T) * rng.uniform(1.0, 1.5, len(s))
    n = len(s)
    graph = Graph(xy=xy, n_nodes=len(xy), source=s, target=t, length=length, hardened=rng.random(n) < 0.5,
                  all_season=rng.random(n) < 0.8, group=np.zeros(n, np.int64), access=np.zeros(n, bool),
                  line=np.arange(n))
    centres = rng.choice(len(xy), 40, replace=False)
    village_node = rng.choice(len(xy), 800, replace=False)
    centre_of_village = centres[rng.integers(0, len(centres), len(village_node))]

    result = village_paths(graph, village_node, centre_of_village)

    csr = csr_build(graph, np.ones(n, bool))
    expected = np.array([dijkstra(csr.matrix, indices=c)[v] for v, c in zip(village_node, centre_of_village, strict=True)])
    reachable = np.isfinite(expected)
    assert (result.connected == reachable).all()
    assert result.path_m[reachable] == pytest.approx(expected[reachable])
    assert (result.hardened_m[reachable] <= result.path_m[reachable] + 1e-9).all()
