"""bench/ogc.py gives a quick cell more rounds than --rounds, so that its median moves less from run to run."""
from __future__ import annotations

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.append(BENCH)  # bench/ is not a package; appended, so it shadows nothing
import ogc  # noqa: E402


def test_a_quick_cell_gets_the_rounds_that_fit_and_a_slow_one_keeps_the_least():
    assert ogc.rounds_for(30, 0.003) == ogc.MAX_ROUNDS  # a village-sized box: 3 ms a pair
    assert ogc.rounds_for(30, 0.02) == int(ogc.CELL_SECONDS / 0.02)
    assert ogc.rounds_for(30, 0.4) == 30  # a page of 10,000: --rounds
    assert ogc.rounds_for(500, 0.003) == 500  # never fewer than asked for
    assert ogc.rounds_for(30, 0.0) == ogc.MAX_ROUNDS


def test_a_cell_with_a_target_gets_at_least_its_rounds_however_slow():
    # the province box at limit 1,000: a 20 ms statement, about 40 rounds' worth of CELL_SECONDS
    assert ogc.rounds_for(30, 0.045) < ogc.TARGET_ROUNDS
    assert ogc.rounds_for(30, 0.045, ogc.TARGET_ROUNDS) == ogc.TARGET_ROUNDS
    assert ogc.rounds_for(30, 0.003, ogc.TARGET_ROUNDS) == ogc.MAX_ROUNDS  # a quick one still gets what fits
    assert ogc.rounds_for(300, 0.045, ogc.TARGET_ROUNDS) == 300  # and --rounds still wins when higher


def test_the_report_says_how_many_rounds_a_cell_with_a_target_gets():
    row = {"box": "province 1.0°", "limit": ogc.TARGET_LIMIT, "rounds": ogc.TARGET_ROUNDS, "view_p50": 2.0,
           "view_p95": 3.0, "floor_p50": 1.0, "floor_p95": 1.5, "view_bytes": 10, "floor_bytes": 9, "ratio": 2.0,
           "closed_ratio": 2.1, "call_p50": 1.5, "call_ratio": 1.5}
    tile = {"tile": "6/50/28", "rounds": 400, "view_p50": 1.0, "view_p95": 1.2, "floor_p50": 1.0, "floor_p95": 1.1,
            "view_bytes": 100, "ratio": 1.0, "closed_ratio": 1.05}
    text = ogc.report([row], [row], [tile], 1_000_000, 30, national=True)
    assert f"at limit {ogc.TARGET_LIMIT:,}, at least {ogc.TARGET_ROUNDS}" in text
    assert "≤ 1.3× NOT met" in text  # 2.0× the floor
