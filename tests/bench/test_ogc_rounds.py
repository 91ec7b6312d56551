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
