"""Benchmark: /api/works/ against the bare SQL statement that builds the same FeatureCollection.

Run: .venv/bin/python bench/api_works.py [--works 20000] [--rounds 30]
Needs PostgreSQL on 127.0.0.1:5432 (trust auth, as scripts/postgis.sh sets up). It (re)creates the
database infra_bench, migrates it, loads the reference geography and inserts synthetic works (points
inside the former Phong Thổ district, all published so the anonymous request sees them), then, in one
process and interleaved after a warm-up:
  - "api": GET /api/works/?limit=N from the WSGI application gunicorn serves (middleware, URL routing,
    DRF parameter checks, the access policy, the count and the page statement, the response), in
    process, no HTTP;
  - "floor": the page statement itself — captured from the API request — run bare with psycopg2 on a
    persistent connection with the app's own session settings (jit off, no parallel workers, one
    generic plan per prepared statement); prepared on that connection too when the API runs it
    prepared (see `replayable`).
The ratio api/floor is the cost of everything around the database. Results go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "infra_bench"
URL = f"postgis://postgres@127.0.0.1:5432/{DB}"


def _psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qc", sql], check=True)


def prepare(works: int) -> None:
    _psql(f"DROP DATABASE IF EXISTS {DB}")
    _psql(f"CREATE DATABASE {DB}")
    _psql("CREATE EXTENSION postgis", DB)
    env = {**os.environ, "DATABASE_URL": URL}
    for command in (["migrate", "-v0"], ["load_reference", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    # Synthetic published works, spread over the district (ST_GeneratePoints keeps them inside it).
    _psql(f"""
        INSERT INTO works_work (code, name, category, description, internal_notes, school_level, water_source, road_class,
            road_surface, geometry, beneficiary_households, beneficiary_poor_households, beneficiary_women,
            special_mechanism, approved_year, total_investment, stage, progress, version, is_demo, created_at, updated_at)
        SELECT 'BENCH-' || lpad(d.path[1]::text, 7, '0'), 'Công trình thử ' || d.path[1], 'health', '', '', '', '', '', '',
            d.geom, 10, 3, 5, false, 2023, 1000000000, 'approved', 0, 1, true, now(), now()
        FROM (SELECT (ST_Dump(ST_GeneratePoints(boundary, {works}, 2022))).* FROM geo_adminunit WHERE level = 'district') d;
        UPDATE works_work w SET current_commune_id = c.id FROM geo_adminunit c
         WHERE c.level = 'commune' AND c.valid_to IS NULL AND ST_Contains(c.boundary, w.geometry);
        ANALYZE;
    """, DB)
    # As autovacuum would leave them (visibility map set); the insert and the update above built each
    # work's stored feature twice (infra.works.features).
    _psql("VACUUM ANALYZE works_work", DB)
    _psql("VACUUM ANALYZE works_workfeature", DB)


def session_options() -> str:
    """The session settings the app's own connections carry (infra/settings.py), for a floor's connection."""
    from django.db import connection

    return connection.settings_dict["OPTIONS"].get("options", "")


def floor_connection():
    """A persistent connection for the floor, with the app's session settings. Text comes back as the
    database's UTF-8 bytes, as the app's pages take it (gis.layers, `raw`), so that neither arm decodes
    what the other passes on."""
    import psycopg2
    import psycopg2.extensions

    floor = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=DB, options=session_options())
    floor.autocommit = True
    psycopg2.extensions.register_type(psycopg2.extensions.BYTES, floor)
    return floor


def replayable(captured, marker: str, floor) -> str:
    """Return the statement a captured request ran that holds `marker`, as the floor's connection is to replay
    it. A page the view runs as a prepared statement (gis.layers: pages without a box) is prepared on the
    floor's connection too, and replayed as its EXECUTE, so that both arms do the same work."""
    queries = [q["sql"] for q in captured.captured_queries]
    execute = next((q for q in queries if q.startswith("EXECUTE layer_page_")), None)
    if execute is None:
        return next(q for q in queries if marker in q)
    name = execute.split()[1].split("(")[0]
    with floor.cursor() as cursor:  # another page of the same shape (OGC items and /api/works/) prepared it already
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
        if cursor.fetchone():
            return execute
    with captured.connection.cursor() as cursor:  # the text it was prepared from, by this request or an earlier one
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        text = cursor.fetchone()[0]
    with floor.cursor() as cursor:
        cursor.execute(text[text.index("PREPARE layer_page_"):])  # without a DEALLOCATE sent with it
    return execute


# What the pages' timings mean (wsgi_get's `answered`), said under each table that times a page.
ANSWERED_NOTE = (
    "A page is timed until its answer's last byte is read, as one client waits for it: a server writes the whole "
    "answer and only then closes it (gunicorn's sync worker: `handle_request`), and the close sends Django's "
    "`request_finished` (its connections' and caches' upkeep); the answer states its Content-Length, so the "
    "client knows it has it all at its last byte. *With close()* is the time the server's worker spends on the "
    "request, that upkeep included, over the same floor: what a busy worker makes the next request wait. Until "
    "2026-12-06 these tables timed pages with their close()."
)


def wsgi_get(url: str, answered: list[float] | None = None) -> tuple[str, int]:
    """GET `url` (path and query) from the WSGI application gunicorn serves (infra.wsgi), in process:
    Django's whole request cycle, its database health check included, without HTTP. Django's test
    client adds its own work (template and signal capture) and skips the health check; neither is
    what a server pays. Returns the status line and the body's length in bytes, counted chunk by chunk
    as a server writes them (joining them would copy megabytes no server copies).

    `answered`: the moment the answer's last chunk was read is appended to it, before the answer is closed.
    A server writes every chunk to the client and only then calls close() (gunicorn.workers.sync's
    handle_request), which sends Django's request_finished (its connections' and caches' upkeep): the client
    has its answer by then. Time to that moment is what a client waits (ANSWERED); time to the return, with
    close(), is what the server's worker spends on the request."""
    import io

    from infra.wsgi import application

    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
    }
    status = []
    answer = application(environ, lambda line, headers, *_: status.append(line))
    try:
        size = sum(len(chunk) for chunk in answer)
        if answered is not None:
            answered.append(time.perf_counter())
    finally:
        answer.close()
    return status[0], size


def measure(rounds: int, sizes: list[int]) -> list[dict]:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    floor = floor_connection()
    results = []
    answered: list[float] = []  # when the API's last byte was read, before its close() (ANSWERED_NOTE)
    for size in sizes:
        url = f"/api/works/?limit={size}"
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        statement = replayable(captured, "FeatureCollection", floor)

        def api() -> int:
            status, size = wsgi_get(url, answered)
            assert status.startswith("200"), status
            return size

        def bare() -> int:
            with floor.cursor() as cursor:
                cursor.execute(statement)
                return len(cursor.fetchone()[0])

        for _ in range(5):  # warm-up: caches, plans, connections
            api(), bare()
        timings: dict[str, list[float]] = {"api": [], "floor": []}
        closed: list[float] = []
        sizes_bytes: dict[str, int] = {}
        for _ in range(rounds):  # interleaved, so drift hits both arms alike
            for name, arm in (("api", api), ("floor", bare)):
                answered.clear()
                start = time.perf_counter()
                sizes_bytes[name] = arm()
                end = time.perf_counter()
                timings[name].append(((answered[0] if answered else end) - start) * 1000)  # ANSWERED
                if answered:
                    closed.append((end - start) * 1000)
        row = {"limit": size}
        for name, values in timings.items():
            values.sort()
            row[f"{name}_p50"] = statistics.median(values)
            row[f"{name}_p95"] = values[int(0.95 * (len(values) - 1))]
            row[f"{name}_bytes"] = sizes_bytes[name]
        row["ratio"] = row["api_p50"] / row["floor_p50"]
        row["closed_ratio"] = statistics.median(closed) / row["floor_p50"]
        results.append(row)
    floor.close()
    return results


def report(results: list[dict], works: int, rounds: int) -> str:
    lines = [
        "## Works API (`/api/works/`) against the bare statement",
        "",
        f"`bench/api_works.py`, one run, {works:,} published works in PostGIS, {rounds} interleaved rounds per cell after "
        "5 warm-ups, one client, in process (the WSGI application gunicorn serves, called directly: no HTTP). "
        "The floor is the very statement the API "
        "runs to build the FeatureCollection, replayed with psycopg2 on a persistent connection with the same session "
        "settings. Machine: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}.",
        "",
        "| limit | API p50 / p95 (ms) | floor p50 / p95 (ms) | API bytes | floor bytes | API ÷ floor (p50) | target "
        "| with close() ÷ floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    targets = {1000: 1.3, 10000: 1.5}
    for row in results:
        target = targets.get(row["limit"])
        verdict = "" if target is None else (f"≤ {target}× {'met' if row['ratio'] <= target else 'NOT met'}")
        lines.append(
            f"| {row['limit']:,} | {row['api_p50']:.1f} / {row['api_p95']:.1f} | {row['floor_p50']:.1f} / {row['floor_p95']:.1f} "
            f"| {row['api_bytes']:,} | {row['floor_bytes']:,} | {row['ratio']:.2f}× | {verdict} "
            f"| {row['closed_ratio']:.2f}× |"
        )
    lines += ["", ANSWERED_NOTE, "", "The API adds the paging links; its extra time is the access policy, parameter checks "
              "and the request's handling (the count is part of the statement itself). These anonymous requests with only "
              "limit, offset and bbox are answered by the application's `infra.public.PublicPages` around Django's "
              "request cycle; box sizes and 1,000,000 works are in the OGC sections.", ""]
    return "\n".join(lines)


def write_section(text: str, heading: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\nEach section is written by its script under `bench/`.\n\n"
    start = current.find(heading)
    if start >= 0:
        end = current.find("\n## ", start + len(heading))
        current = current[:start] + text.strip() + "\n" + (current[end:] if end >= 0 else "")
    else:
        current = current.rstrip() + "\n\n" + text.strip() + "\n"
    path.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    prepare(args.works)
    results = measure(args.rounds, [10, 1000, 10000])
    text = report(results, args.works, args.rounds)
    print(text)
    write_section(text, "## Works API")


if __name__ == "__main__":
    main()
