"""Benchmark: searching the register (`/api/works/?q=`) among 1,000,000 works, against the bare statement and
against folding every row as the search did before the table kept its folded texts.

Run: .venv/bin/python bench/search.py [--rounds 10]
Runs on bench/national.py's synthetic country (database infra_bench_national, generated first if
missing). For each search, in one process, interleaved after a warm-up:
  - view: GET /api/works/?q=…&limit=50 from the WSGI application (in process, no HTTP), anonymous
    (published works), as bench/api_works.py measures;
  - floor: the page statement captured from that request, replayed bare with psycopg2 on a persistent
    connection with the app's session settings;
  - folded per row: the same statement with each stored folded text (works 0007: `search_name`,
    `search_code`, trigram-indexed) replaced by folding the column in the statement, as geo 0002's
    inlined `search_fold` did: what the search cost before the table kept its folded texts.
Results go to the "Search" section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_works  # noqa: E402  (bench/ is not a package: its helpers are imported by path)
import national  # noqa: E402

# What people type: a village's name with its marks and without, a word half the register holds, a whole
# code and its number, a work's name of several words, nothing found, two letters (no trigram), two
# syllables of two letters (trigrams at the space between them) and two initials (trigrams of one letter).
SEARCHES = ["Hải Tây", "hai tay", "trường", "NATW-2023-0000005", "0000005", "trạm y tế xã lộc long", "zzzz", "ab",
            "Pó Nà", "h t"]
LIMIT = 50
STORED = {"search_name": "name", "search_code": "code"}


def per_row(statement: str, cursor) -> str:
    """`statement` with each stored folded text replaced by folding its column in the statement (geo 0002's
    function, inlined as PostgreSQL inlined it)."""
    cursor.execute("SELECT quote_ident(nspname) FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace "
                   "WHERE extname = 'unaccent'")
    schema = bytes(cursor.fetchone()[0]).decode()  # the floor's connection reads text as bytes
    for column, source in STORED.items():
        statement = statement.replace(
            f'"works_work"."{column}"',
            f"lower({schema}.unaccent('{schema}.unaccent'::regdictionary, \"works_work\".\"{source}\"))")
    return statement


def measure(rounds: int) -> list[dict]:
    os.environ["DATABASE_URL"] = api_works.URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
    sys.path.insert(0, str(api_works.ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    floor = api_works.floor_connection()
    rows = []
    for q in SEARCHES:
        url = f"/api/works/?q={quote(q)}&limit={LIMIT}"
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        answer = json.loads(response.content)
        statement = api_works.replayable(captured, "FeatureCollection", floor)
        assert any(f'"{column}"' in statement for column in STORED), statement
        with floor.cursor() as cursor:
            folded = per_row(statement, cursor)
            cursor.execute(f"EXPLAIN {statement}")
            plan = "\n".join(bytes(row[0]).decode() for row in cursor.fetchall())

        def view() -> int:
            status, size = api_works.wsgi_get(url)
            assert status.startswith("200"), status
            return size

        def bare(text: str):
            def run() -> int:
                with floor.cursor() as cursor:
                    cursor.execute(text)
                    return len(cursor.fetchone()[0])
            return run

        arms = {"view": view, "floor": bare(statement), "per_row": bare(folded)}
        sizes = {name: arm() for name, arm in arms.items()}  # warm-up, and both statements answer alike
        assert sizes["floor"] == sizes["per_row"], (q, sizes)
        for _ in range(2):
            for arm in arms.values():
                arm()
        times: dict[str, list[float]] = {name: [] for name in arms}
        for _ in range(rounds):  # interleaved, so drift hits every arm alike
            for name, arm in arms.items():
                start = time.perf_counter()
                arm()
                times[name].append((time.perf_counter() - start) * 1000)
        row = {"q": q, "features": len(answer["features"]), "matched": answer.get("numberMatched"),
               "index": "work_search_" in plan, "bytes": sizes["view"]}
        for name, values in times.items():
            values.sort()
            row[f"{name}_p50"] = statistics.median(values)
            row[f"{name}_p95"] = values[int(0.95 * (len(values) - 1))]
        rows.append(row)
    floor.close()
    return rows


def report(rows: list[dict], rounds: int) -> str:
    load = os.getloadavg()[0]
    lines = [
        "## Search, national",
        "",
        f"`bench/search.py`, one run, 1,000,000 published works in PostGIS (bench/national.py), {rounds} interleaved "
        f"rounds per search after 3 warm-ups, one client, in process. `GET /api/works/?q=…&limit={LIMIT}` (anonymous) "
        "against its page statement replayed bare (the floor), and against that statement with each stored folded "
        "text replaced by folding the column in the statement, as the search did before the works' table kept its "
        "folded names and codes with trigram indexes (infra/works/migrations/0007_search_indexes.py). "
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average (1 min) at the end: {load:.1f}.",
        "",
        "| search | found (page / matched) | plan | view p50 / p95 (ms) | floor p50 / p95 (ms) | view ÷ floor | "
        "folded per row p50 / p95 (ms) | per row ÷ floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        matched = "more than 10,000" if row["matched"] is None else f"{row['matched']:,}"
        plan = "trigram index" if row["index"] else "rows read"
        lines.append(
            f"| `{row['q']}` | {row['features']} / {matched} | {plan} | {row['view_p50']:.1f} / {row['view_p95']:.1f} "
            f"| {row['floor_p50']:.1f} / {row['floor_p95']:.1f} | {row['view_p50'] / row['floor_p50']:.2f}× "
            f"| {row['per_row_p50']:.1f} / {row['per_row_p95']:.1f} | {row['per_row_p50'] / row['floor_p50']:.1f}× |"
        )
    lines += [
        "",
        "*plan*: whether PostgreSQL's plan for the page statement reads the trigram indexes. A search the "
        "indexes cannot narrow (gis.textsearch.narrows: no trigram of two letters or digits, as pg_trgm pads the "
        "words of `LIKE '%…%'`) is written so that the rows are read (gis.textsearch.Stored), comparing stored "
        "folded text instead of folding each name again. "
        "The page counts matches up to 10,000 (`numberMatched` is left out beyond). The view's time over the "
        "floor is larger than for pages without free text (about 1–4 ms here): the searched text is folded by the "
        "database in a round trip of its own, and a search's statement is compiled for each request, where other "
        "pages keep theirs per process (infra.works.selectors._page_match; 0.4–0.5 ms in a loop on 2026-12-05).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    api_works.DB, api_works.URL = national.DB, national.url(national.DB)
    national.prepare(scale=1.0)  # generated once, then reused
    text = report(measure(args.rounds), args.rounds)
    print(text)
    api_works.write_section(text, "## Search, national")


if __name__ == "__main__":
    main()
