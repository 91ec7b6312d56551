"""bench/idle.py times the very page bench/ogc.py's village-sized cell at limit 1,000 times, and reports each setting."""
from __future__ import annotations

import sys
from pathlib import Path

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.append(BENCH)  # bench/ is not a package; appended, so it shadows nothing
import idle  # noqa: E402
import ogc  # noqa: E402


def test_the_page_is_bench_ogc_s_village_cell_at_limit_1000():
    cells = dict((query, label) for label, query in ogc.item_queries([1000], ogc.NATIONAL_CENTRE))
    query = idle.village_url().partition("?")[2]
    assert cells[query].startswith("village")


def test_the_report_gives_each_setting_its_share_of_the_floor():
    rows = [{"setting": name, "page": 1000.0 + 100 * n, "statement": 1000.0, "around": 100.0 * n, "close": 20.0 + n}
            for n, name in enumerate(idle.SETTINGS)]
    text = idle.report(rows, {"floor": 1000.0, "url": idle.village_url()}, rounds=10)
    assert text.startswith(idle.HEADING) and "20 rounds per setting" in text
    assert "| 1 ms asleep | 1,200 | 1,000 | 200 | 1.20× | 22 |" in text
    assert "| the floor | 1,300 | 1,000 | 300 | 1.30× | 23 |" in text
    assert "then close(), alone" in text and "to its last byte" in text


def test_busy_keeps_the_processor_for_the_time_asked():
    import time

    start = time.perf_counter()
    idle.busy(0.002)
    assert time.perf_counter() - start >= 0.002
