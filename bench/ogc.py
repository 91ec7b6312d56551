"""Benchmark: /ogc/collections/works/items and /tiles/works/… against the bare statements they run.

Run: .venv/bin/python bench/ogc.py [--works 20000] [--rounds 30]
Same method as bench/api_works.py (whose helpers it uses), on its own database infra_bench_ogc:
synthetic published works in the former Phong Thổ district, then, in one process, interleaved after
a warm-up:
  - items: Django's test client GET /ogc/collections/works/items?limit=N (in process, no HTTP)
    against the FeatureCollection statement captured from that request, replayed with psycopg2 on a
    persistent connection with the same session settings (jit off, no parallel workers);
  - tiles: GET /tiles/works/z/x/y.mvt for a fixed list of tiles z6–z14 around the district centre
    (three tiles holding works per zoom),
    against the captured ST_AsMVT statement replayed bare.
Results go to the "OGC API and tiles" section of docs/benchmarks.md.

With --national it runs instead on bench/exports.py's synthetic national table (1,000,000 published
works across Viet Nam: 80 % points, 15 % lines, 5 % polygons, random physical order; database
infra_bench_ogc_national, kept between runs), adds bbox sizes village 0.02° / commune 0.1° /
province 1° around the country's middle, and writes the section "OGC API and tiles, national".
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_works  # noqa: E402  (bench/ is not a package: its helpers are imported by path)

api_works.DB = "infra_bench_ogc"
api_works.URL = f"postgis://postgres@127.0.0.1:5432/{api_works.DB}"
CENTRE = (103.36, 22.53)
NATIONAL_CENTRE = (105.7, 15.85)
BOXES = {"village": 0.02, "commune": 0.1, "province": 1.0}
TILE_ZOOMS = (6, 8, 10, 12, 14)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def candidate_tiles(centre: tuple[float, float]) -> list[tuple[int, int, int]]:
    """The tile over the centre and its eight neighbours, at each zoom (the empty ones are dropped later)."""
    tiles = []
    for z in TILE_ZOOMS:
        _z, x, y = tile_of(*centre, z)
        tiles += [(z, x + dx, y + dy) for dy in (0, -1, 1) for dx in (0, -1, 1)]
    return tiles


def _stats(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[int(0.95 * (len(values) - 1))]


def item_queries(limits: list[int], centre: tuple[float, float] | None) -> list[tuple[str, str]]:
    """(label, query) pairs: every limit over the whole table, and with --national every limit per box size."""
    queries = [("—", f"limit={limit}") for limit in limits]
    if centre is not None:
        lon, lat = centre
        for name, size in BOXES.items():
            box = f"{lon - size / 2:.4f},{lat - size / 2:.4f},{lon + size / 2:.4f},{lat + size / 2:.4f}"
            queries += [(f"{name} {size}°", f"limit={limit}&bbox={box}") for limit in limits]
    return queries


def measure(rounds: int, limits: list[int], national: bool = False) -> tuple[list[dict], list[dict]]:
    os.environ["DATABASE_URL"] = api_works.URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
    sys.path.insert(0, str(api_works.ROOT))
    import django

    django.setup()
    import psycopg2
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    floor = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=api_works.DB,
                             options="-c jit=off -c max_parallel_workers_per_gather=0")
    floor.autocommit = True

    def capture(url: str, marker: str) -> str:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        return next(q["sql"] for q in captured.captured_queries if marker in q["sql"])

    def arms(url: str, statement: str) -> dict:
        def view() -> int:
            response = client.get(url)
            assert response.status_code == 200
            return len(response.content)

        def bare() -> int:
            with floor.cursor() as cursor:
                cursor.execute(statement)
                value = cursor.fetchone()[0]
            return len(value.encode() if isinstance(value, str) else bytes(value or b""))

        for _ in range(5):
            view(), bare()
        timings: dict[str, list[float]] = {"view": [], "floor": []}
        size = {}
        for _ in range(rounds):
            for name, arm in (("view", view), ("floor", bare)):
                start = time.perf_counter()
                size[name] = arm()
                timings[name].append((time.perf_counter() - start) * 1000)
        row = {}
        for name, values in timings.items():
            row[f"{name}_p50"], row[f"{name}_p95"] = _stats(values)
            row[f"{name}_bytes"] = size[name]
        row["ratio"] = row["view_p50"] / row["floor_p50"]
        return row

    items = []
    for label, query in item_queries(limits, NATIONAL_CENTRE if national else None):
        url = f"/ogc/collections/works/items?{query}"
        limit = int(query.split("&")[0].split("=")[1])
        items.append({"box": label, "limit": limit, **arms(url, capture(url, "FeatureCollection"))})
    tiles, per_zoom = [], dict.fromkeys(TILE_ZOOMS, 0)
    for z, x, y in candidate_tiles(NATIONAL_CENTRE if national else CENTRE):
        url = f"/tiles/works/{z}/{x}/{y}.mvt"
        if per_zoom[z] == 3 or not client.get(url).content:
            continue  # three tiles with works in them per zoom
        per_zoom[z] += 1
        tiles.append({"tile": f"{z}/{x}/{y}", "z": z, **arms(url, capture(url, "ST_AsMVT"))})
    floor.close()
    return items, tiles


def report(items: list[dict], tiles: list[dict], works: int, rounds: int, national: bool = False) -> str:
    lines = [
        "## OGC API and tiles, national" if national else "## OGC API and tiles",
        "",
        f"`bench/ogc.py{' --national' if national else ''}`, one run, {works:,} published works in PostGIS"
        f"{' (bench/exports.py generator, across Viet Nam)' if national else ''}, {rounds} interleaved rounds per cell after "
        "5 warm-ups, one client, in process (Django's test client, no HTTP). Each floor is the very statement the "
        "view runs (captured from it), replayed with psycopg2 on a persistent connection with the same session "
        f"settings. Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.",
        "",
        "### `/ogc/collections/works/items`",
        "",
        "| bbox | limit | view p50 / p95 (ms) | floor p50 / p95 (ms) | view bytes | floor bytes | view ÷ floor (p50) | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in items:
        verdict = f"≤ 1.3× {'met' if row['ratio'] <= 1.3 else 'NOT met'}" if row["limit"] == 1000 else ""
        lines.append(
            f"| {row['box']} | {row['limit']:,} | {row['view_p50']:.1f} / {row['view_p95']:.1f} | {row['floor_p50']:.1f} / "
            f"{row['floor_p95']:.1f} | {row['view_bytes']:,} | {row['floor_bytes']:,} | {row['ratio']:.2f}× | {verdict} |"
        )
    lines += [
        "",
        "### `/tiles/works/{z}/{x}/{y}.mvt`",
        "",
        "| tile | view p50 / p95 (ms) | floor p50 / p95 (ms) | bytes | view ÷ floor (p50) |",
        "|---|---|---|---|---|",
    ]
    for row in tiles:
        lines.append(
            f"| {row['tile']} | {row['view_p50']:.2f} / {row['view_p95']:.2f} | {row['floor_p50']:.2f} / "
            f"{row['floor_p95']:.2f} | {row['view_bytes']:,} | {row['ratio']:.2f}× |"
        )
    view_all = sum(r["view_p50"] for r in tiles)
    floor_all = sum(r["floor_p50"] for r in tiles)
    ratio = view_all / floor_all
    worst = max(r["ratio"] for r in tiles)
    lines += [
        "",
        f"The whole list of {len(tiles)} tiles (sum of p50s): view {view_all:.1f} ms, floor {floor_all:.1f} ms, "
        f"{ratio:.2f}× (target ≤ 1.15×: {'met' if ratio <= 1.15 else 'NOT met'}); the worst single tile "
        f"{worst:.2f}×. Small tiles pay Django's fixed cost per request (routing, middleware, the policy), "
        "about the same absolute time whatever the tile, so their ratio is the largest.",
        "",
        "Not measured here: the pygeoapi comparison." if national else
        "Not measured here: the pygeoapi comparison; bbox sizes and 1,000,000 works are in the national section.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--national", action="store_true", help="1,000,000 works across Viet Nam, with bbox sizes")
    args = parser.parse_args()
    if args.national:
        import exports

        api_works.DB = exports.DB = "infra_bench_ogc_national"
        api_works.URL = exports.URL = f"postgis://postgres@127.0.0.1:5432/{exports.DB}"
        args.works = 1_000_000 if args.works == 20000 else args.works
        exports.prepare(args.works, keep=True)
    else:
        api_works.prepare(args.works)
    items, tiles = measure(args.rounds, [10, 1000, 10000], national=args.national)
    text = report(items, tiles, args.works, args.rounds, national=args.national)
    print(text)
    api_works.write_section(text, "## OGC API and tiles, national" if args.national else "## OGC API and tiles\n")


if __name__ == "__main__":
    main()
