"""Benchmark the maintenance planner: 100,000 synthetic works in memory, then once through the database.

    .venv/bin/python bench/maintenance_plan.py                      # SpatiaLite (a throw-away file under var/)
    DATABASE_URL=postgis://postgres@127.0.0.1:5432/infra .venv/bin/python bench/maintenance_plan.py
    .venv/bin/python bench/maintenance_plan.py --works 100000 --db-schedules 10000 --no-db

Part 1 builds the planner's plain input (Candidate rows) for N works in memory and times the
ranking and the budget walk, and the reasons for the first lines shown on the page. Part 2
creates a throw-away test database (Django's test database machinery: the configured database
is never touched), writes works, schedules and inspections in bulk, and times the selector
that feeds the planner, the plan, the map layer, the reminders and the calendar rows.
Results go to docs/benchmarks.md by hand ("Maintenance planner").
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings")

YEAR, TODAY = 2027, date(2026, 11, 28)
CONDITIONS = ["good", "fair", "poor", "failed", None]
CONDITION_WEIGHTS = [0.35, 0.3, 0.15, 0.05, 0.15]
# category: [(task kind, interval months, share of investment per round)], as in infra.maintenance.templates
TASKS = {
    "road": [("routine", 3, 0.005), ("periodic", 24, 0.04)],
    "water": [("routine", 3, 0.005), ("periodic", 12, 0.015)],
    "irrigation": [("routine", 6, 0.006), ("periodic", 24, 0.03)],
    "bridge": [("routine", 6, 0.004)],
    "health": [("routine", 12, 0.005)],
    "school": [("routine", 12, 0.005)],
    "culture": [("routine", 12, 0.005)],
}


def timed(function, *, repeat: int = 3):
    """Return the function's result and its median wall time in seconds over `repeat` runs."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def synthetic_tasks(rng: random.Random, works: int):
    """Yield (work number, category, households, poor, investment, condition, inspected, task kind, interval, due, cost)."""
    categories = list(TASKS)
    for n in range(works):
        category = rng.choice(categories)
        households = rng.randint(10, 400)
        poor = rng.randint(0, households // 2)
        investment = rng.randint(3, 60) * 100_000_000
        condition = rng.choices(CONDITIONS, CONDITION_WEIGHTS)[0]
        inspected = TODAY - timedelta(days=rng.randint(10, 900)) if condition else None
        for kind, interval, share in TASKS[category]:
            due = TODAY + timedelta(days=rng.randint(-900, 500))
            yield n, category, households, poor, investment, condition, inspected, kind, interval, due, int(investment * share)
        if condition in ("poor", "failed"):
            yield (n, category, households, poor, investment, condition, inspected, "repair", None, inspected,
                   int(investment * (0.05 if condition == "poor" else 0.15)))


def bench_memory(works: int, budget: int) -> list[tuple[str, str]]:
    import django

    django.setup()
    from django.utils import translation

    from infra.maintenance.planner import Candidate, build_plan, line_reasons

    rng = random.Random(2027)
    candidates = [
        Candidate(schedule_id=i, work_id=n, work_code=f"W-{n:06d}", work_name=f"Work {n}", task_kind=kind, next_due=due,
                  unit_cost=cost, interval_months=interval, households=households, poor_households=poor, condition=condition,
                  inspected_on=inspected, commune="X")
        for i, (n, _category, households, poor, _investment, condition, inspected, kind, interval, due, cost)
        in enumerate(synthetic_tasks(rng, works), start=1)
    ]
    plan, seconds = timed(lambda: build_plan(candidates, year=YEAR, budget=budget, today=TODAY))
    with translation.override("vi"):
        _, reasons = timed(lambda: [line_reasons(line, plan=plan, today=TODAY) for line in plan.lines[:1000]])
    assert plan.total <= budget
    return [
        ("works / open tasks in memory", f"{works:,} / {len(candidates):,}"),
        (f"tasks due by 31/12/{YEAR} (plan lines)", f"{len(plan.lines):,} ({len(plan.funded):,} in the budget)"),
        ("build_plan: rank + first-fit budget walk", f"{seconds:.2f} s"),
        ("reasons for the first 1,000 lines (page)", f"{reasons * 1000:.0f} ms"),
    ]


def bench_database(schedules: int, budget: int) -> list[tuple[str, str]]:
    import django

    django.setup()
    from django.contrib.gis.geos import LineString, Point
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor == "sqlite":
        # A file like the real one, not the in-memory database tests use.
        connection.settings_dict["TEST"]["NAME"] = str(ROOT / "var" / "bench-maintenance.sqlite3")

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.utils import timezone, translation

        from infra.maintenance.calendar import calendar_ics
        from infra.maintenance.exports import plan_xlsx
        from infra.maintenance.models import Inspection, Schedule
        from infra.maintenance.selectors import calendar_tasks, maintenance_geojson, plan_for, tasks_due
        from infra.works.models import Work

        rng = random.Random(10_000)
        works, rows, inspections = {}, [], []
        for task in synthetic_tasks(rng, schedules):
            n, category, households, poor, investment, condition, inspected, kind, interval, due, cost = task
            if len(rows) >= schedules:
                break
            if n not in works:
                lon, lat = 103.2 + rng.random() * 0.3, 22.4 + rng.random() * 0.3
                geometry = (LineString((lon, lat), (lon + 0.01, lat + 0.005), srid=4326) if category == "road"
                            else Point(lon, lat, srid=4326))
                works[n] = Work(code=f"B-{n:06d}", name=f"Bench work {n}", category=category, geometry=geometry,
                                approved_year=2023, stage="in_operation", total_investment=investment,
                                beneficiary_households=households, beneficiary_poor_households=poor)
                if condition:
                    inspections.append((n, inspected, condition))
            rows.append((n, kind, interval, due, cost))
        Work.objects.bulk_create(works.values(), batch_size=2000)
        Inspection.objects.bulk_create([Inspection(work=works[n], inspected_on=day, inspector="bench", condition=condition)
                                        for n, day, condition in inspections], batch_size=2000)
        # A due date is stored as "never done, first due on it" for recurring tasks and as the one-off date for repairs.
        Schedule.objects.bulk_create([Schedule(work=works[n], task_kind=kind, interval_months=interval, starts_on=due,
                                               responsible="commune_committee", estimated_cost=cost)
                                      for n, kind, interval, due, cost in rows], batch_size=2000)
        plan, seconds = timed(lambda: plan_for(user=None, year=YEAR, budget=budget, today=TODAY))
        layer, layer_seconds = timed(lambda: maintenance_geojson(user=None, today=TODAY))
        due, due_seconds = timed(lambda: tasks_due(within_days=30, today=TODAY))
        calendar, calendar_seconds = timed(lambda: calendar_tasks(user=None), repeat=1)
        ics, ics_seconds = timed(lambda: calendar_ics(calendar, name="bench", work_url="http://x/works/{id}/",
                                                      stamp=timezone.now()), repeat=1)
        with translation.override("vi"):
            xlsx, xlsx_seconds = timed(lambda: plan_xlsx(plan, today=TODAY), repeat=1)
        features = layer.count('"Feature"')
        vendor = f"{connection.vendor} ({'PostGIS' if connection.vendor == 'postgresql' else 'SpatiaLite'})"
        return [
            ("database", vendor),
            ("works / schedules / inspections written", f"{len(works):,} / {len(rows):,} / {len(inspections):,}"),
            ("plan_for (selector + planner)", f"{seconds:.2f} s, {len(plan.lines):,} lines"),
            ("maintenance layer GeoJSON (all flagged works)", f"{layer_seconds:.2f} s, {features:,} features"),
            ("tasks due within 30 days (reminders)", f"{due_seconds:.2f} s, {len(due):,} tasks"),
            ("calendar rows (every open task)", f"{calendar_seconds:.2f} s, {len(calendar):,} tasks"),
            ("calendar feed built with icalendar", f"{ics_seconds:.2f} s, {len(ics) / 1e6:.1f} MB"),
            ("plan workbook (XLSX, every line with reasons)", f"{xlsx_seconds:.2f} s, {len(xlsx) / 1e6:.1f} MB"),
        ]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--budget", type=int, default=50_000_000_000)
    parser.add_argument("--db-schedules", type=int, default=10_000)
    parser.add_argument("--no-db", action="store_true")
    options = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}; plan year {YEAR}, "
          f"budget {options.budget:,} VND")
    results = bench_memory(options.works, options.budget)
    if not options.no_db:
        results += bench_database(options.db_schedules, options.budget)
    print("| measure | result |\n|---|---|")
    for name, value in results:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
