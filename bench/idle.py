"""What a village-sized box's page costs around its statement, by what the processor did just before.

At 1,000,000 works (bench/national.py) the OGC items page of a village-sized box at limit 1,000 runs one
statement of about 1 ms, and bench/ogc.py finds the page about 1.4× that statement replayed bare (the
floor). Timed back to back, the Python around the statement costs far less than between floor rounds.
This script times the same page (the WSGI application gunicorn serves, in process) after each of:

- *the page itself*: requests back to back;
- *1 ms busy*: this process computing for a millisecond;
- *1 ms asleep*: this process sleeping for a millisecond (nothing else runs);
- *the floor*: the statement replayed bare, as bench/ogc.py interleaves them;

and, after the floor too, *the least a page can do*: a WSGI application that runs the same statement
through Django's connection (fetch_row) and returns its bytes (no parameters, policy, links or headers). For each it
reports the page's median (to its last byte), the statement's own median inside it (gis.layers.fetch_row: a cursor, the
statement and its row, as the floor times them) and the rest: the Python around the statement. The settings take turns in blocks,
twice over, after a warm-up.

Results go to the "What the processor did before a page" section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import io
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_works  # noqa: E402
import national  # noqa: E402
from ogc import BOXES, NATIONAL_CENTRE  # noqa: E402

HEADING = "## What the processor did before a page"
SETTINGS = ("the page itself", "1 ms busy", "1 ms asleep", "the floor")


def village_url() -> str:
    lon, lat = NATIONAL_CENTRE
    half = BOXES["village"] / 2
    return f"/ogc/collections/works/items?limit=1000&bbox={lon - half:.4f},{lat - half:.4f},{lon + half:.4f},{lat + half:.4f}"


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def measure(rounds: int) -> tuple[list[dict], dict]:
    import os

    os.environ["DATABASE_URL"] = api_works.URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")
    sys.path.insert(0, str(api_works.ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gis import layers
    from infra.wsgi import application

    url = village_url()
    floor = api_works.floor_connection()
    with CaptureQueriesContext(connection) as captured:
        assert Client(HTTP_HOST="127.0.0.1").get(url).status_code == 200
    statement = api_works.replayable(captured, "FeatureCollection", floor)

    def bare() -> None:
        with floor.cursor() as cursor:
            cursor.execute(statement)
            cursor.fetchone()

    def least(environ: dict, start_response: Callable) -> list[bytes]:
        text = layers.fetch_row(connection, statement, None, as_bytes=True)[0]
        start_response("200 OK", [("Content-Type", "application/geo+json"), ("Content-Length", str(len(text)))])
        return [text]

    path, _, query = url.partition("?")

    def page(app: Callable) -> None:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        }
        answer = app(environ, lambda *_: None)
        try:
            for _chunk in answer:
                pass
            answered.append(time.perf_counter_ns())  # the last byte (api_works.ANSWERED_NOTE)
        finally:
            if hasattr(answer, "close"):
                answer.close()

    inside: list[int] = []
    answered: list[int] = []
    fetch_row = layers.fetch_row

    def timed_fetch_row(*args, **named):
        start = time.perf_counter_ns()
        try:
            return fetch_row(*args, **named)
        finally:
            inside.append(time.perf_counter_ns() - start)

    before: dict[str, Callable[[], None]] = {
        "the page itself": lambda: None, "1 ms busy": lambda: busy(0.001), "1 ms asleep": lambda: time.sleep(0.001),
        "the floor": bare, "the least a page can do": bare,
    }
    times: dict[str, tuple[list[float], list[float], list[float]]] = {name: ([], [], []) for name in before}
    floors: list[float] = []
    layers.fetch_row = timed_fetch_row
    try:
        for _ in range(100):  # warm-up
            page(application), bare()
        for _block in range(2):
            for name, first in before.items():
                app = least if name == "the least a page can do" else application
                for _ in range(rounds):
                    start = time.perf_counter_ns()
                    first()
                    if name in ("the floor", "the least a page can do"):
                        floors.append((time.perf_counter_ns() - start) / 1000)
                    inside.clear()
                    answered.clear()
                    start = time.perf_counter_ns()
                    page(app)
                    end = time.perf_counter_ns()
                    times[name][0].append((answered[0] - start) / 1000)
                    times[name][1].append(sum(inside) / 1000)
                    times[name][2].append((end - answered[0]) / 1000)
    finally:
        layers.fetch_row = fetch_row
        floor.close()
    rows = []
    for name, (pages, statements, closes) in times.items():
        p50, inner = statistics.median(pages), statistics.median(statements)
        rows.append({"setting": name, "page": p50, "statement": inner, "around": p50 - inner,
                     "close": statistics.median(closes)})
    return rows, {"floor": statistics.median(floors), "url": url}


def report(rows: list[dict], extra: dict, rounds: int) -> str:
    import os

    lines = [
        HEADING, "",
        f"`bench/idle.py`, one run: the OGC items page of the village-sized box at limit 1,000 (`{extra['url']}`), "
        f"1,000,000 works, {2 * rounds} rounds per setting in two blocks each, medians in µs. The floor (the statement "
        f"replayed bare) took {extra['floor']:.0f} µs. Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}; load average (1 min) at the end: {os.getloadavg()[0]:.1f}.",
        "",
        "| before the page | page | its statement | the rest (Python around it) | page ÷ floor | then close(), alone |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['setting']} | {row['page']:,.0f} | {row['statement']:,.0f} | {row['around']:,.0f} | "
                     f"{row['page'] / extra['floor']:.2f}× | {row['close']:,.0f} |")
    lines += ["", "*Page*: to its last byte, as a client waits; *then close()*: the answer's close() after it, which "
              "a server calls once the answer is written (api_works.ANSWERED_NOTE).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=750, help="rounds per setting in each of the two blocks")
    args = parser.parse_args()
    api_works.DB, api_works.URL = national.DB, national.url(national.DB)
    national.prepare(scale=1.0)  # generated once, then reused
    rows, extra = measure(args.rounds)
    text = report(rows, extra, args.rounds)
    print(text)
    api_works.write_section(text, HEADING)


if __name__ == "__main__":
    main()
