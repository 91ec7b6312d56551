"""Connectivity benchmark: our end-to-end answer against the floor and pgRouting, over the same edges.

    .venv/bin/python bench/connectivity.py [--scales province,national] [--repeat 3] [--skip-load] [--no-write]

A synthetic network (a jittered grid with a share of its edges missing, so it falls into many
pieces; surfaces and all-season flags at random; commune centres on a coarse grid; villages at
random nodes, each in the commune of its nearest centre) is written to a PostGIS database
`infra_bench_connectivity` (created if missing, with pgRouting: the Debian package postgresql-15-pgrouting is
installed with apt-get when absent). Then, interleaved, `--repeat` times, each arm in a fresh
process (so its peak memory is its own):

- floor: COPY (source, target) in binary into numpy, scipy connected_components;
- routes: COPY the edges (source, target with the two flags in its top bits) and the villages; for every
  village: connected to its own commune centre, by an entirely hardened route, by an entirely
  all-season route; the sums per commune (the question the floor and pgRouting answer);
- full (ours): also the node coordinates and lengths; every village's shortest path to its own
  centre (length, hardened share, all-season), as `manage.py connectivity` stores it;
- pgRouting: pgr_connectedComponents over the same edges, every row fetched.

Also timed once, in its own process: building the network from line geometries (read as WKB,
snapped, noded, villages attached: gis.network.network_build) for the province-scale network.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALES = {"province": 100_000, "national": 1_000_000}
DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
DATABASE = "infra_bench_connectivity"  # its own: other benchmarks use infra_bench


# Written under the figures in docs/benchmarks.md: why *full* costs what it does.
NOTES = """\
Why *full* is slower than the references: after one multi-source Dijkstra from every commune
centre, a village whose nearest centre by road is another commune's (a quarter of the connected
villages on this grid, which detours a lot with 40 % of its edges missing) needs a search from its
own centre. Those searches are exact and batched (centres more than twice the search limit apart
share one run, bounded by the limit), but together they explore many times the network; neither
reference computes a path at all. Building the network from line geometries (snapping, noding,
attaching places) is done once per `manage.py connectivity` and timed separately above.
"""

# ---------------------------------------------------------------- synthetic data

# The network generator is shared with the national dataset (same seed, same arrays as before).
from national import synthetic  # noqa: E402  (bench/, this script's folder, is on sys.path)

# ---------------------------------------------------------------- database


def _connect(database: str = DATABASE):
    import psycopg2

    return psycopg2.connect(dbname=database, **DSN)


def ensure_database() -> None:
    """Create the bench database with PostGIS and pgRouting (installing pgRouting's package if needed)."""
    admin = _connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'")
        available = cursor.fetchone() is not None
    admin.close()
    if not available:
        print("installing postgresql-15-pgrouting with apt-get…", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql-15-pgrouting"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    connection = _connect()
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    connection.close()


def _copy_in(cursor, table: str, columns: dict[str, np.ndarray]) -> None:
    buffer = io.StringIO()
    matrix = np.column_stack([c.astype(np.int64) if c.dtype == bool else c for c in columns.values()])
    formats = ["%d" if np.issubdtype(c.dtype, np.integer) or c.dtype == bool else "%.3f" for c in columns.values()]
    np.savetxt(buffer, matrix, fmt=formats, delimiter=",")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def load(scale: str, data: dict[str, np.ndarray], *, geometry: bool) -> None:
    """Write the network to tables named after the scale (replacing them)."""
    connection = _connect()
    with connection, connection.cursor() as cursor:
        e, n, v = f"bench_{scale}_edges", f"bench_{scale}_nodes", f"bench_{scale}_villages"
        cursor.execute(f"DROP TABLE IF EXISTS {e}, {n}, {v}")
        cursor.execute(f"CREATE TABLE {e} (id integer PRIMARY KEY, source integer NOT NULL, target integer NOT NULL, "
                       "cost double precision NOT NULL, hardened boolean NOT NULL, all_season boolean NOT NULL, "
                       "geom geometry(LineString, 9205))")
        cursor.execute(f"CREATE TABLE {n} (id integer PRIMARY KEY, x double precision, y double precision)")
        cursor.execute(f"CREATE TABLE {v} (id integer PRIMARY KEY, node integer NOT NULL, centre_node integer NOT NULL, "
                       "population integer NOT NULL, poor integer NOT NULL)")
        _copy_in(cursor, e, {"id": np.arange(len(data["source"])), "source": data["source"], "target": data["target"],
                             "cost": data["length"], "hardened": data["hardened"], "all_season": data["all_season"]})
        _copy_in(cursor, n, {"id": np.arange(len(data["xy"])), "x": data["xy"][:, 0], "y": data["xy"][:, 1]})
        _copy_in(cursor, v, {"id": np.arange(len(data["village_node"])), "node": data["village_node"],
                             "centre_node": data["centre_node"][data["village_commune"]],
                             "population": data["population"], "poor": data["poor"]})
        if geometry:
            cursor.execute(f"UPDATE {e} SET geom = ST_MakeLine(ST_MakePoint(a.x, a.y), ST_MakePoint(b.x, b.y))::"
                           f"geometry(LineString, 9205) FROM {n} a, {n} b WHERE a.id = {e}.source AND b.id = {e}.target")
        cursor.execute(f"ANALYZE {e}; ANALYZE {n}; ANALYZE {v}")
    connection.close()


def copy_binary(cursor, sql: str, fields: list[tuple[str, str]]) -> np.ndarray:
    """Read `COPY (sql) TO STDOUT (FORMAT binary)` of fixed-width, non-null columns into a structured array."""
    buffer = io.BytesIO()
    cursor.copy_expert(f"COPY ({sql}) TO STDOUT (FORMAT binary)", buffer)
    raw = buffer.getbuffer()
    width = {"i4": 4, "f8": 8, "?": 1}
    dtype = [("count", ">i2")]
    for name, kind in fields:
        dtype += [(f"_{name}", ">i4"), (name, ">" + kind if kind != "?" else "?")]
    dtype = np.dtype(dtype)
    header = 19 + int.from_bytes(raw[15:19], "big")
    rows = (len(raw) - header - 2) // dtype.itemsize
    assert all(width[k] for _n, k in fields)
    return np.frombuffer(raw, dtype=dtype, offset=header, count=rows)


# ---------------------------------------------------------------- arms (each in its own process)


def arm_floor(scale: str) -> dict:
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    connection = _connect()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        edges = copy_binary(cursor, f"SELECT source, target FROM bench_{scale}_edges", [("source", "i4"), ("target", "i4")])
        cursor.execute(f"SELECT max(id) + 1 FROM bench_{scale}_nodes")
        n = cursor.fetchone()[0]
    read = time.perf_counter()
    s, t = edges["source"].astype(np.int32), edges["target"].astype(np.int32)
    count, _labels = connected_components(coo_array((np.ones(len(s)), (s, t)), shape=(n, n)).tocsr(), directed=False)
    end = time.perf_counter()
    return {"seconds": end - start, "read": read - start, "components": int(count)}


FLAG_HARDENED, FLAG_ALL_SEASON = 1 << 30, 1 << 29


def arm_routes(scale: str) -> dict:
    from gis.connectivity import route_labels

    connection = _connect()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) + 1 FROM bench_{scale}_nodes")
        n_nodes = cursor.fetchone()[0]
        assert n_nodes < FLAG_ALL_SEASON  # node ids leave the two top bits free for the flags
        # The two flags ride in the target column's top bits: two columns to read, as for the floor.
        e = copy_binary(cursor, f"SELECT source, target | (hardened::int << 30) | (all_season::int << 29) "
                        f"FROM bench_{scale}_edges", [("source", "i4"), ("target", "i4")])
        v = copy_binary(cursor, f"SELECT node, centre_node, population, poor FROM bench_{scale}_villages ORDER BY id",
                        [("node", "i4"), ("centre_node", "i4"), ("population", "i4"), ("poor", "i4")])
    read = time.perf_counter()
    packed = e["target"].astype(np.int32)
    s, t = e["source"].astype(np.int32), packed & (FLAG_ALL_SEASON - 1)
    hard, all_year_edge = (packed & FLAG_HARDENED) != 0, (packed & FLAG_ALL_SEASON) != 0
    whole, hardened, all_season = route_labels(n_nodes, s, t, hard, all_year_edge)
    built = time.perf_counter()
    village, centre = v["node"].astype(np.int64), v["centre_node"].astype(np.int64)
    connected = whole[village] == whole[centre]
    on_hardened = connected & (hardened[village] == hardened[centre])
    all_year = connected & (all_season[village] == all_season[centre])
    commune = np.unique(centre, return_inverse=True)[1]
    people = v["population"].astype(float)
    sums = [np.bincount(commune, weights=w) for w in (connected.astype(float), on_hardened.astype(float),
                                                     all_year.astype(float), people * ~connected, v["poor"] * ~connected)]
    end = time.perf_counter()
    return {"seconds": end - start, "read": read - start, "build": built - read, "answer": end - built,
            "villages": int(len(village)), "connected": int(connected.sum()), "hardened": int(on_hardened.sum()),
            "communes": int(len(sums[0]))}


def arm_ours(scale: str) -> dict:
    from gis.connectivity import components, csr_build, village_paths
    from gis.network import Graph

    connection = _connect()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        e = copy_binary(cursor, f"SELECT source, target, cost, hardened, all_season FROM bench_{scale}_edges",
                        [("source", "i4"), ("target", "i4"), ("cost", "f8"), ("hardened", "?"), ("all_season", "?")])
        # Node positions bound the batched searches (straight-line distance ≤ path length).
        nodes = copy_binary(cursor, f"SELECT x, y FROM bench_{scale}_nodes ORDER BY id", [("x", "f8"), ("y", "f8")])
        xy, n_nodes = np.column_stack([nodes["x"], nodes["y"]]), len(nodes)
        v = copy_binary(cursor, f"SELECT node, centre_node, population, poor FROM bench_{scale}_villages ORDER BY id",
                        [("node", "i4"), ("centre_node", "i4"), ("population", "i4"), ("poor", "i4")])
    read = time.perf_counter()
    n_edges = len(e)
    graph = Graph(xy=xy, n_nodes=n_nodes, source=e["source"].astype(np.int64),
                  target=e["target"].astype(np.int64), length=e["cost"].astype(float), hardened=e["hardened"].copy(),
                  all_season=e["all_season"].copy(), group=np.zeros(n_edges, np.int64), access=np.zeros(n_edges, bool),
                  line=np.arange(n_edges))
    csr = csr_build(graph, np.ones(n_edges, bool))
    labels = components(graph)
    built = time.perf_counter()
    village_node, centre_node = v["node"].astype(np.int64), v["centre_node"].astype(np.int64)
    paths = village_paths(graph, village_node, centre_node, csr=csr, labels=labels)
    # Per commune: villages, connected, hardened, people and poor households not connected.
    commune = np.unique(centre_node, return_inverse=True)[1]
    people = v["population"].astype(float)
    per_commune = {name: np.bincount(commune, weights=w) for name, w in (
        ("connected", paths.connected.astype(float)), ("hardened", paths.hardened.astype(float)),
        ("people_cut", people * ~paths.connected), ("poor_cut", v["poor"] * ~paths.connected))}
    end = time.perf_counter()
    return {"seconds": end - start, "read": read - start, "build": built - read, "answer": end - built,
            "villages": int(len(village_node)), "connected": int(paths.connected.sum()),
            "hardened": int(paths.hardened.sum()),
            "mean_path_km": float(np.nanmean(paths.path_m) / 1000),
            "communes": int(len(per_commune["connected"]))}


def arm_pgrouting(scale: str) -> dict:
    connection = _connect()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        cursor.execute(f"SELECT component, node FROM pgr_connectedComponents("
                       f"'SELECT id, source, target, cost, cost AS reverse_cost FROM bench_{scale}_edges')")
        rows = cursor.fetchall()
    end = time.perf_counter()
    return {"seconds": end - start, "components": len({r[0] for r in rows})}


def arm_build(scale: str) -> dict:
    import shapely

    from gis.network import Line, Places, network_build

    connection = _connect()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ST_AsBinary(geom), hardened, all_season FROM bench_{scale}_edges ORDER BY id")
        rows = cursor.fetchall()
        v = copy_binary(cursor, f"SELECT n.x, n.y FROM bench_{scale}_villages v JOIN bench_{scale}_nodes n "
                                "ON n.id = v.node ORDER BY v.id", [("x", "f8"), ("y", "f8")])
    geometries = shapely.from_wkb([bytes(r[0]) for r in rows])
    read = time.perf_counter()
    lines = [Line(id=str(i), geometry=g, surface="concrete" if h else "earth", all_season=a)
             for i, (g, (_w, h, a)) in enumerate(zip(geometries, rows, strict=True))]
    network = network_build(lines, Places(np.column_stack([v["x"], v["y"]])), Places(np.zeros((0, 2))),
                            tolerance_m=5.0, attach_m=500.0)
    end = time.perf_counter()
    return {"seconds": end - start, "read": read - start, "build": end - read, "nodes": network.graph.n_nodes,
            "edges": network.graph.n_edges, "components": network.components}


ARMS = {"floor": arm_floor, "routes": arm_routes, "ours": arm_ours, "pgrouting": arm_pgrouting, "build": arm_build}


def run_arm(arm: str, scale: str) -> dict:
    """Run one arm in a fresh Python process; return its figures and its peak resident memory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "infra.settings"}
    out = subprocess.run([sys.executable, __file__, "--arm", arm, "--scale", scale], capture_output=True, text=True,
                         env=env, timeout=900, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{arm} {scale} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(arm: str, scale: str) -> None:
    import django

    django.setup()  # GeoDjango's GDAL and GEOS bindings (gis.network imports them through gis.crs)
    result = ARMS[arm](scale)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent that forked us.
    status = Path("/proc/self/status").read_text()
    result["peak_mib"] = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    print(json.dumps(result))


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="province,national")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print the results only (default: also replace the "
                        "Connectivity section of docs/benchmarks.md)")
    parser.add_argument("--skip-load", action="store_true", help="reuse the tables of an earlier run")
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--scale", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:
        _child(args.arm, args.scale)
        return
    ensure_database()
    load_start = os.getloadavg()[0]
    results = {}
    for scale in args.scales.split(","):
        if not args.skip_load:
            t0 = time.perf_counter()
            load(scale, synthetic(SCALES[scale]), geometry=scale == "province")
            print(f"{scale}: loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        runs: dict[str, list[dict]] = {"floor": [], "routes": [], "ours": [], "pgrouting": []}
        for _ in range(args.repeat):
            for arm in runs:  # interleaved
                runs[arm].append(run_arm(arm, scale))
                print(scale, arm, runs[arm][-1], file=sys.stderr)
        if scale == "province":
            runs["build"] = [run_arm("build", scale)]
            print(scale, "build", runs["build"][-1], file=sys.stderr)
        results[scale] = runs
    text = report(results, repeat=args.repeat, load=(load_start, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        import api_works  # bench/ is on sys.path: the shared section writer

        api_works.write_section(text + "\n" + NOTES, "## Connectivity")


def _median(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def report(results: dict, *, repeat: int, load: tuple[float, float]) -> str:
    lines = [
        "## Connectivity",
        "",
        f"`bench/connectivity.py` on this machine (2 cores, PostgreSQL 15 + PostGIS 3.3 + pgRouting, stock settings; "
        f"load average {load[0]:.1f} at the start and {load[1]:.1f} at the end), medians of {repeat} interleaved runs, each arm in a "
        "fresh process (peak = its maximum resident memory). Synthetic network: a jittered 250 m grid with 40 % of "
        "the edges missing (so it falls into many pieces and paths detour), 40 % hardened, one commune centre per 300 "
        "edges, one village per 10 edges, each village in the commune of its nearest centre.",
        "",
        "- *floor*: binary COPY of (source, target) into numpy, scipy `connected_components`;",
        "- *routes*: binary COPY of the edges (source, and target with the hardened and all-season flags in its two "
        "top bits) and of the villages (node, centre node, people, poor households); the three component labellings built (all edges, hardened, all-season); for every village: connected to its own commune centre, by a route entirely "
        "hardened, by a route entirely all-season; the per-commune sums — the question the floor and pgRouting answer;",
        "- *full*: *routes* plus every village's shortest path to its own centre (length, hardened share, all-season) — "
        "what `manage.py connectivity` stores;",
        "- *pgRouting*: `pgr_connectedComponents` over the same edges, every row fetched.",
        "",
        "| network | edges | floor | routes | routes ÷ floor | full | full ÷ floor | pgRouting | pgRouting ÷ routes "
        "| pgRouting ÷ full | peak memory (routes / full) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scale, runs in results.items():
        floor, routes, full = _median(runs["floor"]), _median(runs["routes"]), _median(runs["ours"])
        pgr = _median(runs["pgrouting"])
        lines.append(
            f"| {scale} | {SCALES[scale]:,} | {floor:.2f} s | {routes:.2f} s | {routes / floor:.1f}× | {full:.2f} s "
            f"(read {_median(runs['ours'], 'read'):.2f}, graph {_median(runs['ours'], 'build'):.2f}, paths "
            f"{_median(runs['ours'], 'answer'):.2f}) | {full / floor:.1f}× | {pgr:.2f} s | {pgr / routes:.1f}× | "
            f"{pgr / full:.1f}× | {_median(runs['routes'], 'peak_mib'):.0f} / {_median(runs['ours'], 'peak_mib'):.0f} MiB |"
        )
    verdicts = []
    for scale, runs in results.items():
        floor, routes, full = _median(runs["floor"]), _median(runs["routes"]), _median(runs["ours"])
        pgr = _median(runs["pgrouting"])
        verdicts.append(f"{scale}: routes {routes / floor:.1f}× the floor (target ≤ 3×: "
                        f"{'met' if routes <= 3 * floor else 'not met'}) and {pgr / routes:.1f}× faster than pgRouting "
                        f"(target ≥ 4×: {'met' if pgr >= 4 * routes else 'not met'}); full {full / floor:.1f}× the floor")
    lines += ["", "Against the targets (*routes* answers every village the question the floor and pgRouting answer; *full* "
              "adds the shortest paths, which neither reference computes): " + "; ".join(verdicts) + "."]
    for scale, runs in results.items():
        sample = runs["ours"][0]
        lines.append("")
        lines.append(f"{scale}: {sample['villages']:,} villages in {sample['communes']:,} communes; "
                     f"{sample['connected']:,} connected, {sample['hardened']:,} by a hardened route; mean shortest "
                     f"path {sample['mean_path_km']:.1f} km; {runs['floor'][0]['components']:,} components (pgRouting: "
                     f"{runs['pgrouting'][0]['components']:,}, counting only nodes on an edge).")
        if "build" in runs:
            b = runs["build"][0]
            lines.append(f"Building that network from its line geometries (WKB read {b['read']:.2f} s; snapping, "
                         f"noding and attaching the villages with `gis.network.network_build` {b['build']:.2f} s; "
                         f"peak {b['peak_mib']:.0f} MiB) happens once per `manage.py connectivity`, before the graph "
                         "step measured above.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
