"""Benchmark: /ogc/collections/works/items and /tiles/works/… against the bare statements they run.

Run: .venv/bin/python bench/ogc.py [--works 20000] [--rounds 30]
Same method as bench/api_works.py (whose helpers it uses), on its own database infra_bench_ogc:
synthetic published works in the former Phong Thổ district, then, in one process, interleaved after
a warm-up:
  - items: GET /ogc/collections/works/items?limit=N from the WSGI application (in process, no HTTP)
    against the FeatureCollection statement captured from that request, replayed with psycopg2 on a
    persistent connection with the app's own session settings (jit off, no parallel workers, one
    generic plan per prepared statement); a page the view runs as a prepared statement (no box:
    gis.layers._execute_prepared) is prepared on the floor's connection too and replayed as its
    EXECUTE, so both do the same work; then the same requests of /api/works/ against their own floors;
  - tiles: GET /tiles/works/z/x/y.mvt for a fixed list of tiles z6–z14 around the district centre
    (three tiles holding works per zoom),
    against the captured ST_AsMVT statement replayed bare.
Results go to the "OGC API and tiles" section of docs/benchmarks.md.

With --national it runs instead on bench/national.py's synthetic country (1,000,000 published
works across Viet Nam: 80 % points, 15 % lines, 5 % polygons, random physical order; database
infra_bench_national, kept between runs), adds bbox sizes village 0.02° / commune 0.1° /
province 1° around the country's middle, and writes the section "OGC API and tiles, national".

Then, in both modes, the peer: the same items requests (every limit, without a box and with each box
size around the centre) over HTTP against pygeoapi (bench/pygeoapi/: pinned, in its own virtualenv,
its PostgreSQL provider on a view of the same works) and against our app, each served by gunicorn
with one sync worker, one client, alternated request by request after a warm-up; every cell first
checks that both answer the same features. --peer-rounds 0 skips it. Then many clients at once:
8 clients ask the same request (limit 10 and 1,000, and 1,000 in a commune-sized box) as fast as
answers come, of each server under gunicorn with 2 sync workers; answers per second and latency
(--clients-seconds 0 skips it).
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_works  # noqa: E402  (bench/ is not a package: its helpers are imported by path)

api_works.DB = "infra_bench_ogc"
api_works.URL = f"postgis://postgres@127.0.0.1:5432/{api_works.DB}"
CENTRE = (103.36, 22.53)
NATIONAL_CENTRE = (108.0, 15.5)  # inland Quảng Nam: the middle of bench/national.py's country
BOXES = {"village": 0.02, "commune": 0.1, "province": 1.0}
PEER_WARM_UP = 3
TILE_ZOOMS = (6, 8, 10, 12, 14)


# A quick cell gets more rounds than --rounds: as many as fit in about CELL_SECONDS, up to MAX_ROUNDS. A
# median of 30 rounds of a 1.5 ms cell moves by several hundredths of its ratio from run to run; a
# village-sized box at limit 1,000 sits that near its target. A cell with a target (limit 1,000) gets at
# least TARGET_ROUNDS whatever it costs: the province box's 20 ms statement fits only about 40 rounds in
# CELL_SECONDS, and a median of 40 rounds of it has moved from 0.86× to 1.35× between runs (2026-12-06;
# 200 rounds of it three times in a row: 1.01–1.03×).
CELL_SECONDS, MAX_ROUNDS, TARGET_ROUNDS = 2.0, 400, 200
TARGET_LIMIT = 1000  # the items' target (≤ 1.3× the floor) is set at this limit


def rounds_for(rounds: int, pair_seconds: float, least: int = 0) -> int:
    """The rounds for a cell whose two arms took `pair_seconds` together in the warm-up; never fewer than
    `least` (a cell with a target) or `rounds` (--rounds)."""
    return max(rounds, least, min(MAX_ROUNDS, int(CELL_SECONDS / max(pair_seconds, 1e-6))))


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


def measure(rounds: int, limits: list[int], national: bool = False) -> tuple[list[dict], list[dict], list[dict]]:
    os.environ["DATABASE_URL"] = api_works.URL
    # Tiles are compared with the floor as built; what the tile cache then saves is measured after.
    os.environ["TILE_CACHE_MB"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
    sys.path.insert(0, str(api_works.ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    floor = api_works.floor_connection()

    def capture(url: str, marker: str) -> str:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        return api_works.replayable(captured, marker, floor)

    answered: list[float] = []  # when a view's last byte was read, before its close() (api_works.ANSWERED_NOTE)

    def arms(url: str, statement: str, page_call: Callable[[], int] | None = None, least: int = 0) -> dict:
        def view() -> int:
            status, size = api_works.wsgi_get(url, answered)
            assert status.startswith("200"), status
            return size

        def bare() -> int:
            with floor.cursor() as cursor:
                cursor.execute(statement)
                value = cursor.fetchone()[0]
            return len(value if isinstance(value, bytes) else bytes(value or b""))  # text as bytes; a tile's bytea

        def interleaved(first: Callable[[], int], second: Callable[[], int]) -> tuple[list[float], list[float], int, int,
                                                                                   list[float]]:
            # Two arms in turn, each on its own connection (the view's and the floor's): each finds its
            # database session idle since the other's turn, as a third arm between them would upset. A view
            # is timed to its last byte; the last list holds the first arm's times with its close().
            start = time.perf_counter()
            for _ in range(5):
                first(), second()
            pair = (time.perf_counter() - start) / 5
            times: tuple[list[float], list[float]] = ([], [])
            closed: list[float] = []
            sizes = [0, 0]
            for _ in range(rounds_for(rounds, pair, least)):
                for number, arm in enumerate((first, second)):
                    answered.clear()
                    start = time.perf_counter()
                    sizes[number] = arm()
                    end = time.perf_counter()
                    times[number].append(((answered[0] if answered else end) - start) * 1000)
                    if number == 0:
                        closed.append((end - start) * 1000)
            return times[0], times[1], sizes[0], sizes[1], closed

        view_times, floor_times, view_size, floor_size, closed = interleaved(view, bare)
        row = {"view_bytes": view_size, "floor_bytes": floor_size, "rounds": len(view_times)}
        row["view_p50"], row["view_p95"] = _stats(view_times)
        row["floor_p50"], row["floor_p95"] = _stats(floor_times)
        row["ratio"] = row["view_p50"] / row["floor_p50"]
        row["closed_ratio"] = _stats(closed)[0] / row["floor_p50"]
        if page_call is not None:
            # Then the page call against the floor, in rounds of their own.
            call_times, call_floor_times, _size, _floor, _closed = interleaved(page_call, bare)
            row["call_p50"] = _stats(call_times)[0]
            row["call_ratio"] = row["call_p50"] / _stats(call_floor_times)[0]
        return row

    def page_call(query: str) -> Callable[[], int]:
        """The collection's page read called directly, as the view calls it once the request is checked: the
        policy, the statement's text, its execution and the bytes; no request cycle, parameters or links."""
        from django.contrib.auth.models import AnonymousUser
        from django.http import QueryDict

        from infra.ogc.collections import COLLECTIONS, Query
        from infra.ogc.params import params_for

        data = params_for("works").parse(QueryDict(query)).validated_data
        checked = Query(limit=data["limit"], offset=data["offset"], bbox=data.get("bbox"), raw=True)
        anonymous, found = AnonymousUser(), COLLECTIONS["works"]
        return lambda: len(found.page(anonymous, checked).head())

    def api_page_call(query: str) -> Callable[[], int]:
        """The same for /api/works/: its parameters checked, then works_page as its view calls it."""
        from django.contrib.auth.models import AnonymousUser
        from django.http import QueryDict

        from infra.api.params import WorkListParams
        from infra.works.selectors import works_page

        params = WorkListParams.parse(QueryDict(query))
        data, filters, anonymous = params.validated_data, params.filters(), AnonymousUser()
        return lambda: len(works_page(user=anonymous, filters=filters, limit=data["limit"], offset=data["offset"],
                                      raw=True).head())

    items, api_items = [], []
    for label, query in item_queries(limits, NATIONAL_CENTRE if national else None):
        limit = int(query.split("&")[0].split("=")[1])
        least = TARGET_ROUNDS if limit == TARGET_LIMIT else 0
        url = f"/ogc/collections/works/items?{query}"
        items.append({"box": label, "limit": limit,
                      **arms(url, capture(url, "FeatureCollection"), page_call(query), least)})
        url = f"/api/works/?{query}"
        api_items.append({"box": label, "limit": limit,
                          **arms(url, capture(url, "FeatureCollection"), api_page_call(query), least)})
    tiles, per_zoom = [], dict.fromkeys(TILE_ZOOMS, 0)
    for z, x, y in candidate_tiles(NATIONAL_CENTRE if national else CENTRE):
        url = f"/tiles/works/{z}/{x}/{y}.mvt"
        if per_zoom[z] == 3 or not client.get(url).content:
            continue  # three tiles with works in them per zoom
        per_zoom[z] += 1
        tiles.append({"tile": f"{z}/{x}/{y}", "z": z, **arms(url, capture(url, "ST_AsMVT"))})
    floor.close()
    _measure_kept(tiles, rounds)
    return items, api_items, tiles


def _measure_kept(tiles: list[dict], rounds: int) -> None:
    """Each low-zoom tile asked again with the tile cache on (infra/ogc/tile_cache.py), after one request
    has built and kept it: its p50 as `kept_p50` (None where tiles are not kept)."""
    from django.conf import settings

    from infra.ogc.tile_cache import CACHED_BELOW_ZOOM

    settings.TILE_CACHE_MB = 64
    for row in tiles:
        row["kept_p50"] = None
        if row["z"] >= CACHED_BELOW_ZOOM:
            continue
        url = f"/tiles/works/{row['tile']}.mvt"
        status, size = api_works.wsgi_get(url)
        assert status.startswith("200") and size == row["view_bytes"], url
        timings, answered = [], []
        for _ in range(rounds):
            answered.clear()
            start = time.perf_counter()
            api_works.wsgi_get(url, answered)
            timings.append((answered[0] - start) * 1000)  # to the last byte, as the view's column
        row["kept_p50"], _p95 = _stats(timings)
    settings.TILE_CACHE_MB = 0


def measure_peer(rounds: int, limits: list[int], centre: tuple[float, float]) -> list[dict]:
    """Items over HTTP from our app and from pygeoapi, both under gunicorn, the same requests alternated."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "pygeoapi"))
    import peer  # bench/pygeoapi/peer.py: the peer's virtualenv, view and servers

    rows = []
    with peer.servers(db=api_works.DB, url=api_works.URL) as servers:
        for label, query in item_queries(limits, centre):
            paths = {name: f"{server.items}?{query}&f=json" for name, server in servers.items()}
            # A peer that answers fewer or other features is not being compared: stop rather than report it.
            features = peer.same_features({name: server.get(paths[name]) for name, server in servers.items()})
            for _ in range(PEER_WARM_UP):
                for name, server in servers.items():
                    server.get(paths[name])
            for server in servers.values():
                server.reset_peak()
            cpu_before = {name: server.cpu_ms() for name, server in servers.items()}
            timings: dict[str, list[float]] = {name: [] for name in servers}
            size = {}
            for round_ in range(rounds):
                # Alternate who goes first, so neither always follows the other's cache misses.
                order = list(servers.items()) if round_ % 2 == 0 else list(servers.items())[::-1]
                for name, server in order:
                    start = time.perf_counter()
                    size[name] = len(server.get(paths[name]))
                    timings[name].append((time.perf_counter() - start) * 1000)
            row = {"box": label, "limit": int(query.split("&")[0].split("=")[1]), "features": features,
                   "load": os.getloadavg()[0]}
            for name, server in servers.items():
                row[f"{name}_p50"], row[f"{name}_p95"] = _stats(timings[name])
                row[f"{name}_bytes"] = size[name]
                row[f"{name}_mib"] = server.peak_mib()
                (running, waiting, database), (running_0, waiting_0, database_0) = server.cpu_ms(), cpu_before[name]
                row[f"{name}_cpu"], row[f"{name}_wait"] = (running - running_0) / rounds, (waiting - waiting_0) / rounds
                row[f"{name}_db_share"] = 100 * (database - database_0) / max(running - running_0, 1e-9)
            row["ratio"] = row["pygeoapi_p50"] / row["ours_p50"]
            row["cpu_ratio"] = row["pygeoapi_cpu"] / row["ours_cpu"]
            rows.append(row)
    return rows


CLIENTS = 8
WORKERS = 2  # one per core


def measure_concurrency(seconds: float, centre: tuple[float, float]) -> list[dict]:
    """Many clients at once: CLIENTS threads ask the same items request as fast as answers come, for
    `seconds`, of each server in turn (both under gunicorn with WORKERS sync workers); requests answered
    per second and their latency."""
    import threading

    sys.path.insert(0, str(Path(__file__).resolve().parent / "pygeoapi"))
    import peer

    lon, lat = centre
    size = BOXES["commune"]
    box = f"{lon - size / 2:.4f},{lat - size / 2:.4f},{lon + size / 2:.4f},{lat + size / 2:.4f}"
    cells = [("—", "limit=10"), ("—", "limit=1000"), (f"commune {size}°", f"limit=1000&bbox={box}")]
    rows = []
    with peer.servers(db=api_works.DB, url=api_works.URL, workers=WORKERS) as servers:
        for label, query in cells:
            row = {"box": label, "limit": int(query.split("&")[0].split("=")[1]), "load": os.getloadavg()[0]}
            order = list(servers.items())
            for name, server in order if len(rows) % 2 == 0 else order[::-1]:
                path = f"{server.items}?{query}&f=json"
                for _ in range(PEER_WARM_UP * WORKERS):
                    server.get(path)
                latencies: list[float] = []
                deadline = time.perf_counter() + seconds

                def client(server=server, path=path, latencies=latencies, deadline=deadline) -> None:
                    while time.perf_counter() < deadline:
                        start = time.perf_counter()
                        server.get(path)
                        latencies.append((time.perf_counter() - start) * 1000)  # list.append is atomic

                threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.perf_counter() - started
                row[f"{name}_rps"] = len(latencies) / elapsed
                row[f"{name}_p50"], row[f"{name}_p95"] = _stats(latencies)
            row["ratio"] = row["ours_rps"] / row["pygeoapi_rps"]
            rows.append(row)
    return rows


def report_concurrency(rows: list[dict], seconds: float) -> str:
    lines = [
        "### Many clients at once",
        "",
        f"{CLIENTS} clients (threads of the benchmark, each on a new TCP connection per request) ask the same "
        f"request as fast as answers come, for {seconds:.0f} s per server, of our app and of pygeoapi in turn, each "
        f"under gunicorn with {WORKERS} sync workers (one per core) and one database connection per worker; clients, "
        "servers and PostgreSQL share the machine's cores. Load average (1 min) at the start of each cell: "
        f"{min(r['load'] for r in rows):.1f}–{max(r['load'] for r in rows):.1f}.",
        "",
        "| bbox | limit | ours: answers/s | pygeoapi: answers/s | ours ÷ pygeoapi | ours p50 / p95 (ms) | "
        "pygeoapi p50 / p95 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['box']} | {row['limit']:,} | {row['ours_rps']:.0f} | {row['pygeoapi_rps']:.0f} | {row['ratio']:.1f}× | "
            f"{row['ours_p50']:.1f} / {row['ours_p95']:.1f} | {row['pygeoapi_p50']:.1f} / {row['pygeoapi_p95']:.1f} |"
        )
    lines.append("")
    return "\n".join(lines)


def report_peer(rows: list[dict], rounds: int) -> str:
    def spread(key: str) -> str:
        values = [row[key] for row in rows]
        return f"{min(values):.1f}–{max(values):.1f}"

    lines = [
        "### Against pygeoapi, over HTTP",
        "",
        f"The same items requests against pygeoapi {_pygeoapi_version()} (its PostgreSQL provider, "
        "bench/pygeoapi/config.yml; pinned in requirements-bench-pygeoapi.txt and installed into "
        "var/bench-pygeoapi-venv on first use; `--peer-rounds 0` skips this part) and against our app, each served "
        "by gunicorn with one sync worker, DEBUG off, "
        "one persistent database connection each with the same session settings (jit off, no parallel workers, "
        "one generic plan per prepared statement); one "
        f"client, a new TCP connection per request, the two servers alternated request by request, {rounds} rounds "
        f"per cell after {PEER_WARM_UP} warm-ups. pygeoapi reads a view over the same works table made from the "
        "publication rule and the property expressions of our items layer, so both answer the same features: every "
        "cell checks that the feature ids (and their order) and the property names are the same before it is timed. "
        "CPU is what the server's worker and its PostgreSQL backend spent on a processor per request "
        "(/proc/…/schedstat); peak memory is the resident-set high-water mark of the worker during the cell. "
        f"Load average (1 min) during the cells: {spread('load')} on {os.cpu_count()} cores.",
        "",
        "| bbox | limit | features | ours p50 / p95 (ms) | pygeoapi p50 / p95 (ms) | pygeoapi ÷ ours (p50) | target ≥ 3× "
        "| CPU ms ours / pygeoapi | pygeoapi ÷ ours (CPU) | bytes ours / pygeoapi | peak MiB ours / pygeoapi |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['box']} | {row['limit']:,} | {row['features']:,} | {row['ours_p50']:.1f} / {row['ours_p95']:.1f} | "
            f"{row['pygeoapi_p50']:.1f} / {row['pygeoapi_p95']:.1f} | {row['ratio']:.1f}× | "
            f"{'met' if row['ratio'] >= 3 else 'NOT met'} | {row['ours_cpu']:.1f} / {row['pygeoapi_cpu']:.1f} | "
            f"{row['cpu_ratio']:.1f}× | {row['ours_bytes']:,} / {row['pygeoapi_bytes']:,} | "
            f"{row['ours_mib']:.0f} / {row['pygeoapi_mib']:.0f} |"
        )
    met = sum(row["ratio"] >= 3 for row in rows)
    at_1000 = [row["ratio"] for row in rows if row["limit"] == 1000]
    lines += [
        "",
        f"≥ 3× faster than pygeoapi (p50): met in {met} of {len(rows)} cells (at limit 1,000: "
        f"{min(at_1000):.1f}–{max(at_1000):.1f}×); in CPU per request pygeoapi costs {spread('cpu_ratio')}× ours. "
        f"Of that CPU, PostgreSQL's backend spent {spread('ours_db_share')} % for ours and "
        f"{spread('pygeoapi_db_share')} % for pygeoapi (the rest is the Python worker's). "
        f"Waiting for a processor, per request: ours {spread('ours_wait')} ms, pygeoapi {spread('pygeoapi_wait')} ms. "
        "Wall time counts that wait, and on a machine shared with other work it is not shared fairly between the "
        "two: Linux schedules by session group, so every PostgreSQL backend on the machine (everyone's) competes in "
        "one group while each Python server has a group of its own, and the server whose time is mostly the "
        "database's — ours — waits the most. The CPU ratio does not depend on the machine's other work.",
        "",
        "The answers differ in form only: pygeoapi writes coordinates at full double precision (ours: 6 decimals, "
        "about 0.1 m), escapes non-ASCII letters (\\uXXXX), writes the money sums as floats (0.0), adds more links, "
        "and always states `numberMatched` (an exact count on every request; ours only up to 10,000 matches). Its "
        "time goes to that count, then per feature to a SQLAlchemy ORM object, WKB → shapely → dict for the "
        "geometry and `json.dumps` in Python; ours passes through, as bytes, one FeatureCollection that PostgreSQL "
        "joins from each work's stored Feature text (infra/works/features.py).",
        "",
    ]
    return "\n".join(lines)


def _pygeoapi_version() -> str:
    for line in (api_works.ROOT / "requirements-bench-pygeoapi.txt").read_text().splitlines():
        if line.startswith("pygeoapi=="):
            return line.split("==")[1]
    return "(unpinned)"


def _items_table(title: str, rows: list[dict], page_call: str) -> list[str]:
    lines = [
        f"### `{title}`",
        "",
        "| bbox | limit | rounds | view p50 / p95 (ms) | floor p50 / p95 (ms) | view bytes | floor bytes | view ÷ floor (p50) "
        "| target | with close() ÷ floor | page call p50 (ms) | page call ÷ floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = f"≤ 1.3× {'met' if row['ratio'] <= 1.3 else 'NOT met'}" if row["limit"] == TARGET_LIMIT else ""
        lines.append(
            f"| {row['box']} | {row['limit']:,} | {row['rounds']} | {row['view_p50']:.1f} / {row['view_p95']:.1f} "
            f"| {row['floor_p50']:.1f} / {row['floor_p95']:.1f} | {row['view_bytes']:,} | {row['floor_bytes']:,} "
            f"| {row['ratio']:.2f}× | {verdict} | {row['closed_ratio']:.2f}× "
            f"| {row['call_p50']:.2f} | {row['call_ratio']:.2f}× |"
        )
    return [*lines, "", page_call, "", api_works.ANSWERED_NOTE, ""]


def report(items: list[dict], api_items: list[dict], tiles: list[dict], works: int, rounds: int,
           national: bool = False) -> str:
    lines = [
        "## OGC API and tiles, national" if national else "## OGC API and tiles",
        "",
        f"`bench/ogc.py{' --national' if national else ''}`, one run, {works:,} published works in PostGIS"
        f"{' (bench/national.py generator, across Viet Nam)' if national else ''}, at least {rounds} interleaved rounds per cell "
        f"after 5 warm-ups (a quick cell as many as fit in about {CELL_SECONDS:.0f} s, up to {MAX_ROUNDS}; a cell with a "
        f"target, at limit {TARGET_LIMIT:,}, at least {TARGET_ROUNDS}: the *rounds* column), one client, in process "
        "(the WSGI application gunicorn serves, called directly: no HTTP; these "
        "anonymous pages with only limit, offset and bbox are answered by its `infra.public.PublicPages` around "
        "Django's request cycle, tiles by Django). Each floor is the very statement the "
        "view runs (captured from it), replayed with psycopg2 on a persistent connection with the same session "
        f"settings. Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}; "
        f"load average (1 min) when these cells ended: {os.getloadavg()[0]:.1f}.",
        "",
        *_items_table("/ogc/collections/works/items", items,
                      "*Page call*: the collection's page read (`infra.ogc.collections`) called directly with the "
                      "request's checked values, as the view calls it: the access policy, the statement's text, its "
                      "execution and the answer's bytes, without the request's handling, the parameters' parsing, the "
                      "links or the response. Timed against the floor in interleaved rounds of its own, after the view's "
                      "(a third arm in the same rounds would find the view's database session warm and the floor's "
                      "cold). The view's time over it is the request layer's."),
        *_items_table("/api/works/", api_items,
                      "The same requests of the works API, which pages the same works with its own links (no time "
                      "stamp); its page call is `infra.works.selectors.works_page` as its view calls it."),
        "### `/tiles/works/{z}/{x}/{y}.mvt`",
        "",
        "| tile | rounds | view p50 / p95 (ms) | floor p50 / p95 (ms) | bytes | view ÷ floor (p50) | kept: view p50 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in tiles:
        kept = "—" if row.get("kept_p50") is None else f"{row['kept_p50']:.2f}"
        lines.append(
            f"| {row['tile']} | {row['rounds']} | {row['view_p50']:.2f} / {row['view_p95']:.2f} | {row['floor_p50']:.2f} / "
            f"{row['floor_p95']:.2f} | {row['view_bytes']:,} | {row['ratio']:.2f}× | {kept} |"
        )
    view_all = sum(r["view_p50"] for r in tiles)
    floor_all = sum(r["floor_p50"] for r in tiles)
    ratio = view_all / floor_all
    worst = max(r["ratio"] for r in tiles)
    closed_all = sum(r["closed_ratio"] * r["floor_p50"] for r in tiles)
    lines += [
        "",
        f"The whole list of {len(tiles)} tiles (sum of p50s): view {view_all:.1f} ms, floor {floor_all:.1f} ms, "
        f"{ratio:.2f}× (target ≤ 1.15×: {'met' if ratio <= 1.15 else 'NOT met'}); the worst single tile "
        f"{worst:.2f}×; with close() {closed_all / floor_all:.2f}× (timed as the items are, below). Small tiles pay "
        "Django's fixed cost per request (routing, middleware, the policy), about the same absolute time whatever "
        "the tile, so their ratio is the largest.",
        "",
        "Those columns are tiles built for every request (the tile cache off). *kept*: the same tile asked again "
        "with the tile cache on (infra/ogc/tile_cache.py; below zoom 12, while nothing commits), served from "
        "memory without its statement.",
        "",
        *([] if national else ["Bbox sizes against the floor, and 1,000,000 works, are in the national section.", ""]),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--national", action="store_true", help="1,000,000 works across Viet Nam, with bbox sizes")
    parser.add_argument("--peer-rounds", type=int, default=20, help="rounds per cell against pygeoapi (0: skip it)")
    parser.add_argument("--clients-seconds", type=float, default=5,
                        help=f"seconds per server of {CLIENTS} clients at once, after the peer cells (0: skip them)")
    args = parser.parse_args()
    if args.national:
        import national

        api_works.DB, api_works.URL = national.DB, national.url(national.DB)
        args.works = 1_000_000 if args.works == 20000 else args.works
        national.prepare(scale=args.works / national.FULL["works"])  # generated once, then reused
    else:
        api_works.prepare(args.works)
    items, api_items, tiles = measure(args.rounds, [10, 1000, 10000], national=args.national)
    text = report(items, api_items, tiles, args.works, args.rounds, national=args.national)
    if args.peer_rounds:
        centre = NATIONAL_CENTRE if args.national else CENTRE
        text += "\n" + report_peer(measure_peer(args.peer_rounds, [10, 1000, 10000], centre), args.peer_rounds)
        if args.clients_seconds:
            text += "\n" + report_concurrency(measure_concurrency(args.clients_seconds, centre),
                                              args.clients_seconds)
    else:
        text += "\nNot measured in this run: the pygeoapi comparison (--peer-rounds 0).\n"
    print(text)
    api_works.write_section(text, "## OGC API and tiles, national" if args.national else "## OGC API and tiles\n")


if __name__ == "__main__":
    main()
