"""The national synthetic dataset: communes in provinces, villages, works and a road network across Viet Nam.

    .venv/bin/python bench/national.py [--scale 1.0] [--db infra_bench_national] [--seed 20261128] [--force]

At scale 1.0 it writes into the real schema (`manage.py migrate`), so that the map, /api/, /ogc/,
the tiles and `manage.py connectivity` serve it: 10,000 communes of the current vintage (from
1 July 2025) in 34 provinces, with their centres; 100,000 villages; 1,000,000 road segments (base
roads); 1,000,000 published works (80 % points, 15 % lines, 5 % polygons). Every row is flagged
synthetic (`is_demo`; `source` for the administrative units) and every code starts with "NAT".
A smaller scale covers the part of the country around geography.ANCHOR with the same densities,
so `--scale 0.01` is a quick check of the same shapes. The same arguments give the same rows.

How (details in the modules of bench/synthetic_country/):
- the road network is `synthetic()` below — the connectivity benchmark's jittered grid with 40 % of
  its edges missing — laid over an outline of the country, spaced so that the land holds the
  wanted number of segments;
- commune centres are random nodes of that grid and a commune is the Voronoi cell of its centre
  cut to the land, so "the commune of the nearest centre" (how villages are assigned, as in the
  connectivity benchmark) and "the commune that contains it" are the same; provinces are k-means
  groups of communes; villages sit on grid nodes;
- works lie near a random village, inside its commune (checked in longitude/latitude), in public
  stages with dates, progress, beneficiaries and money that fit the stage and category.

Loading: the database is dropped, created and migrated while the data is generated, then filled
with COPY (see synthetic_country.loading), ANALYZEd and VACUUMed. The table `bench_national`
records the generator version and arguments, the row digests, the timings and the peak memory; a
later run with the same arguments and an up-to-date schema reuses the database (`--force`
regenerates), so that `make bench` generates once.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

if str(Path(__file__).resolve().parent) not in sys.path:  # bench/ is not a package
    sys.path.append(str(Path(__file__).resolve().parent))
from synthetic_country import VERSION, Dataset  # noqa: E402
from synthetic_country import geography as _geography  # noqa: E402
from synthetic_country import loading as _loading  # noqa: E402
from synthetic_country import works as _works  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DB = "infra_bench_national"
DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SEED = 20261128
FULL = {"communes": 10_000, "villages": 100_000, "works": 1_000_000, "roads": 1_000_000}
PROVINCES = 34  # as since 1 July 2025

# The connectivity benchmark's grid: 250 m spacing, nodes jittered by up to 60 m, 60 % of the edges kept.
SPACING_M = 250.0
KEEP = 0.6


def synthetic(edges: int, seed: int = SEED, *, land: shapely.Geometry | None = None,
              centres: int | None = None) -> dict[str, np.ndarray]:
    """Return a deterministic synthetic network of about `edges` edges with villages and centres.

    Without `land`: a square jittered 250 m grid, the connectivity benchmark's network (its published
    figures depend on these exact arrays). With `land` (a polygon in metres): a grid over the land's
    bounds, spaced so that the nodes inside it carry `edges` edges; only those nodes take part, and
    exactly `edges` edges are kept. `centres` replaces the default of one commune centre per 300 edges.
    """
    rng = np.random.default_rng(seed)
    if land is None:
        spacing, origin = SPACING_M, np.zeros(2)
        nx = ny = int(np.ceil(np.sqrt(edges / (2 * KEEP)))) + 1
    else:
        spacing = float(np.sqrt(land.area * 2 * KEEP / edges))
        minx, miny, maxx, maxy = land.bounds
        origin = np.array([minx, miny])
        nx, ny = int((maxx - minx) // spacing) + 2, int((maxy - miny) // spacing) + 2
    ids = np.arange(ny * nx).reshape(ny, nx)
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    jitter = 60.0 * spacing / SPACING_M
    xy = np.column_stack([gx.ravel(), gy.ravel()]) * spacing + origin + rng.uniform(-jitter, jitter, (ny * nx, 2))
    s = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    t = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    pool = np.arange(ny * nx)
    if land is not None:
        shapely.prepare(land)
        inside = shapely.contains_xy(land, xy[:, 0], xy[:, 1])
        both = inside[s] & inside[t]
        s, t, pool = s[both], t[both], pool[inside]
        if len(s) < edges:
            raise ValueError(f"the land holds {len(s):,} grid edges, fewer than the {edges:,} asked for")
    pick = np.sort(rng.choice(len(s), size=edges, replace=False))
    s, t = s[pick], t[pick]
    length = np.hypot(*(xy[s] - xy[t]).T) * rng.uniform(1.0, 1.3, edges)
    hardened = rng.random(edges) < 0.4
    all_season = hardened | (rng.random(edges) < 0.35)
    # By default communes about 10 km across, as after the 2025 mergers; ~30 villages each.
    n_centres = centres or max(1, edges // 300)
    centre_node = np.unique(pool[rng.choice(len(pool), n_centres, replace=False)])
    n_villages = edges // 10
    village_node = rng.choice(np.setdiff1d(pool, centre_node), n_villages, replace=False)
    from scipy.spatial import cKDTree

    commune = cKDTree(xy[centre_node]).query(xy[village_node])[1]
    return {
        "xy": xy, "source": s.astype(np.int32), "target": t.astype(np.int32), "length": length,
        "hardened": hardened, "all_season": all_season, "centre_node": centre_node.astype(np.int32),
        "village_node": village_node.astype(np.int32), "village_commune": commune.astype(np.int32),
        "population": rng.integers(150, 900, n_villages).astype(np.int32),
        "poor": rng.integers(10, 120, n_villages).astype(np.int32),
    }


def sizes(scale: float) -> dict[str, int]:
    """Return the row counts of a scale (the network gives one village per ten segments)."""
    roads = round(FULL["roads"] * scale)
    communes = max(1, round(FULL["communes"] * scale))
    return {"provinces": max(1, round(PROVINCES * communes / FULL["communes"])), "communes": communes,
            "villages": roads // 10, "roads": roads, "works": round(FULL["works"] * scale)}


def build(scale: float = 1.0, seed: int = SEED) -> Dataset:
    """Generate the dataset of a scale in memory (no database); the same arguments give the same arrays."""
    timings, clock = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = time.perf_counter() - clock
        clock = time.perf_counter()

    counts = sizes(scale)
    area, border = _geography.land(scale)
    net = synthetic(counts["roads"], seed, land=area, centres=counts["communes"])
    lap("network")
    # One stream per part, so that changing one part leaves the others' rows as they were.
    rng = [np.random.default_rng([seed, part]) for part in range(4)]
    units, new_position, cells = _geography.provinces_and_communes(rng[0], area, border, net, counts["provinces"])
    lap("communes")
    villages = _geography.villages(rng[1], net, new_position, units["code"][counts["provinces"]:])
    inside = shapely.contains_xy(units["boundary"][counts["provinces"] + villages["commune"]], villages["location"])
    if not inside.all():
        raise ValueError(f"{(~inside).sum()} villages lie on a commune boundary; try another seed")
    roads = _geography.roads(rng[2], net)
    lap("villages and roads")
    works = _works.works(rng[3], counts["works"], villages, units, counts["provinces"], cells)
    lap("works")
    bounds = shapely.bounds(units["boundary"][: counts["provinces"]])
    bbox = (*bounds[:, :2].min(0).tolist(), *bounds[:, 2:].max(0).tolist())
    return Dataset(scale, seed, counts, units, villages, roads, works, bbox, timings)


load = _loading.load
digests = _loading.digests


# ---------------------------------------------------------------- the database


def url(db: str = DB) -> str:
    return f"postgis://postgres@127.0.0.1:5432/{db}"


def _connect(db: str):
    import psycopg2

    return psycopg2.connect(dbname=db, **DSN)


def _admin(statement: str, params: list | None = None) -> list:
    connection = _connect("postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall() if cursor.description else []
    connection.close()
    return rows


def _manage(db: str, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *arguments], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url(db)})


def marker(db: str = DB) -> dict | None:
    """Return what the database says it holds (arguments, counts, digests, timings…), or None."""
    if not _admin("SELECT 1 FROM pg_database WHERE datname = %s", [db]):
        return None
    connection = _connect(db)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_national') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT to_jsonb(m) FROM bench_national m")
            row = cursor.fetchone()
        else:
            row = None
    connection.close()
    return row[0] if row else None


def _peak_mib() -> int:
    status = Path("/proc/self/status").read_text()  # VmHWM: this process's peak resident memory
    return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024)


def ensure(*, scale: float = 1.0, seed: int = SEED, db: str = DB, force: bool = False,
           log: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)) -> dict:
    """Generate the dataset into `db` unless it already holds this generator version with these arguments."""
    # It drops the database it is given: only ever one of its own.
    if not (db.startswith(DB) and db.replace("_", "").isalnum() and db.isascii() and db.islower()):
        raise ValueError(f"{db!r}: the database is dropped and created again, so its name must start with {DB}")
    arguments = {"version": VERSION, "scale": scale, "seed": seed}
    held = None if force else marker(db)
    if held and held["arguments"] == arguments:
        if _manage(db, "migrate", "--check", "-v0").wait() == 0:
            # No migration to apply, but the triggers, stored texts and counts (infra.works.features) are
            # re-created and rebuilt when their code changed.
            if _manage(db, "migrate", "--noinput", "-v0").wait() != 0:
                raise SystemExit("manage.py migrate failed")
            log(f"{db} already holds the national dataset {arguments}: reused")
            return held
        log(f"{db} holds the dataset, but its schema is behind the migrations: generating again")
    started = time.perf_counter()
    _admin(f"DROP DATABASE IF EXISTS {db}")
    _admin(f"CREATE DATABASE {db}")
    connection = _connect(db)
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION postgis")
    migrate = _manage(db, "migrate", "--noinput", "-v0")  # runs while the data is generated
    log(f"generating scale {scale} (seed {seed}) for {db}…")
    data = build(scale, seed)
    log("  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in data.timings.items()))
    clock = time.perf_counter()
    if migrate.wait() != 0:
        raise SystemExit("manage.py migrate failed")
    timings = {"build": sum(data.timings.values()), "waiting for migrate": time.perf_counter() - clock}
    with connection, connection.cursor() as cursor:
        timings |= load(cursor, data, log=log)
    # Outside a transaction: sets the visibility map, so the first benchmark does not pay for it.
    connection.autocommit = True
    clock = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (*_loading.TABLES, _loading.FEATURES):
            cursor.execute(f"VACUUM {table}")
    connection.autocommit = False
    timings["vacuum"] = time.perf_counter() - clock
    timings["generated and loaded"] = time.perf_counter() - started
    clock = time.perf_counter()
    with connection, connection.cursor() as cursor:
        found = digests(cursor)
        timings["digests"] = time.perf_counter() - clock
        held = {"arguments": arguments, "counts": data.counts, "bbox": data.bbox, "digests": found,
                "timings": {k: round(v, 1) for k, v in timings.items()}, "peak_mib": _peak_mib()}
        cursor.execute("CREATE TABLE bench_national (arguments jsonb NOT NULL, counts jsonb NOT NULL, bbox jsonb NOT NULL, "
                       "digests jsonb NOT NULL, timings jsonb NOT NULL, peak_mib integer NOT NULL, "
                       "generated_at timestamptz NOT NULL DEFAULT now())")
        cursor.execute("INSERT INTO bench_national (arguments, counts, bbox, digests, timings, peak_mib) "
                       "VALUES (%s, %s, %s, %s, %s, %s)",
                       [json.dumps(held[k]) for k in ("arguments", "counts", "bbox", "digests", "timings")]
                       + [held["peak_mib"]])
    connection.close()
    log(f"{db}: generated and loaded in {timings['generated and loaded']:.0f} s, peak memory {held['peak_mib']} MiB")
    return held


def prepare(*, scale: float = 1.0, db: str = DB) -> None:
    """Make sure `db` holds the dataset of `scale`, generating it in a process of its own (its memory is not the caller's)."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--scale", repr(scale), "--db", db], check=True,
                   stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the national sizes, 0.0001–1.0 (default 1.0)")
    parser.add_argument("--db", default=DB, help=f"database to (re)create (default {DB})")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="generate again even if the database holds these arguments")
    args = parser.parse_args()
    if not 0.0001 <= args.scale <= 1.0:
        parser.error("--scale must be between 0.0001 and 1.0")
    try:
        held = ensure(scale=args.scale, seed=args.seed, db=args.db, force=args.force)
    except ValueError as error:
        parser.error(str(error))
    print(json.dumps(held, indent=1))


if __name__ == "__main__":
    main()
