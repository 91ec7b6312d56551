"""Benchmark: CSV and GeoPackage export of N works against COPY … TO STDOUT and ogr2ogr on the same table.

Run: .venv/bin/python bench/exports.py [--works 1000000]
Needs PostgreSQL on 127.0.0.1:5432 (trust auth, as scripts/postgis.sh sets up). The works are the
national synthetic dataset's (bench/national.py at scale works / 1,000,000: 80 % points, 15 % lines,
5 % polygons across Viet Nam in random physical order, GiST-indexed, with the communes, villages and
roads they lie among), in the database infra_bench_national, generated once and reused; then it runs
each arm once, each in its own process, and reports wall time, rows/s and peak RSS:
  - "COPY": `COPY (SELECT every column, ST_AsText(geometry)) TO STDOUT WITH CSV` into a file (psycopg2),
    every column but the derived `extent`, as in the ogr2ogr arm;
  - "export csv": `manage.py export csv` (the access policy, the filters, Vietnamese headers, the
    formula guard, money sums, commune names, lon/lat and WKT — everything the real export does);
  - "ogr2ogr": `ogr2ogr -f GPKG -select <every column but extent> out.gpkg PG:… works_work`;
  - "export gpkg": `manage.py export gpkg` (works split by geometry type plus the reference layers).
Peak RSS is the largest resident set of the arm's processes (ogr2ogr included), from getrusage.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import national  # bench/, this script's folder, is on sys.path

ROOT = Path(__file__).resolve().parent.parent
DB = national.DB
URL = national.url(DB)
PY = sys.executable

# Runs one command, then prints its wall time and the peak RSS of it and its children (KiB).
_TIMER = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
          "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
          "print(json.dumps({'rc': r.returncode, 's': time.perf_counter() - t, "
          "'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")

_COPY = """
import sys, psycopg2
with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=sys.argv[1]) as conn, open(sys.argv[2], "wb") as out:
    cur = conn.cursor()
    cur.execute("SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns "
                "WHERE table_name = 'works_work' AND column_name NOT IN ('geometry', 'extent')")
    columns = cur.fetchone()[0]
    cur.copy_expert(f"COPY (SELECT {columns}, ST_AsText(geometry) FROM works_work) TO STDOUT WITH CSV", out)
"""


def _psql(sql: str, db: str = "postgres") -> str:
    result = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _fields() -> str:
    """The works table's attribute columns for ogr2ogr, without `extent` (PostGIS only: each work's bounding
    box, derived from its geometry for the box index, infra/works/migrations/0006), as the COPY arm."""
    return _psql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                 "WHERE table_name = 'works_work' AND column_name NOT IN ('id', 'geometry', 'extent')", DB)


def prepare(works: int) -> None:
    national.prepare(scale=works / national.FULL["works"], db=DB)
    env = {**os.environ, "DATABASE_URL": URL}
    subprocess.run([PY, "manage.py", "shell", "--no-imports", "-c",
                    "from django.contrib.auth import get_user_model; from infra.accounts.models import Profile; "
                    "u, _ = get_user_model().objects.get_or_create(username='bench-auditor'); "
                    "Profile.objects.get_or_create(user=u, defaults={'role': 'auditor'})"],
                   cwd=ROOT, env=env, check=True)


def timed(command: list[str]) -> dict:
    env = {**os.environ, "DATABASE_URL": URL}
    result = subprocess.run([PY, "-c", _TIMER, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["rc"] != 0:
        raise SystemExit(f"{command[:4]} failed with {measured['rc']}")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--works", type=int, default=1_000_000)
    options = parser.parse_args()
    prepare(options.works)
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as temp:
        out = Path(temp)
        export = [PY, "manage.py", "export", "--user", "bench-auditor", "--no-progress"]
        arms = {
            "COPY … TO STDOUT WITH CSV": [PY, "-c", _COPY, DB, str(out / "copy.csv")],
            "manage.py export csv": [*export[:3], "csv", str(out / "works.csv"), *export[3:]],
            "ogr2ogr -f GPKG PG:… works_work": ["ogr2ogr", "-f", "GPKG", "-select", _fields(), str(out / "ogr.gpkg"),
                                                f"PG:host=127.0.0.1 user=postgres dbname={DB}", "works_work"],
            "manage.py export gpkg": [*export[:3], "gpkg", str(out / "works.gpkg"), *export[3:]],
        }
        results = {}
        for name, command in arms.items():
            results[name] = timed(command)
            size = sum(p.stat().st_size for p in out.iterdir())
            results[name]["mb"] = size / 2**20
            for p in out.iterdir():
                p.unlink()
            print(f"{name}: {results[name]['s']:.1f} s, {options.works / results[name]['s']:,.0f} rows/s, "
                  f"peak RSS {results[name]['rss_kib'] / 1024:.0f} MiB, {results[name]['mb']:.0f} MB", flush=True)
    copy, csv = results["COPY … TO STDOUT WITH CSV"], results["manage.py export csv"]
    ogr, gpkg = results["ogr2ogr -f GPKG PG:… works_work"], results["manage.py export gpkg"]
    print(f"\nCSV throughput vs COPY: {copy['s'] / csv['s']:.0%} (target ≥ 50 %)")
    print(f"GeoPackage time vs ogr2ogr: {gpkg['s'] / ogr['s']:.2f}× (target ≤ 1.2×)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{_psql('SELECT version()').split(',')[0]}")


if __name__ == "__main__":
    main()
