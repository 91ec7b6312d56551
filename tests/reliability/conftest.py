"""The reliability battery: a fast part (in `make test`) and a slow part (`make check-reliability`).

Tests marked `slow` are skipped unless RELIABILITY=full. Every test may add to FIGURES; the totals
are printed at the end of the run and written to var/reliability-figures.txt.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.infra.api.register import build_register
from tests.infra.interchange.conftest import tables_checksum  # noqa: F401  (re-exported for the tests)

FULL = os.environ.get("RELIABILITY") == "full"
FIGURES: Counter = Counter()


def pytest_collection_modifyitems(config, items):
    if FULL:
        return
    skip = pytest.mark.skip(reason="slow part of the reliability battery: set RELIABILITY=full (make check-reliability)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not FIGURES:
        return
    from django.db import connection

    FIGURES.setdefault("rows lost", 0)
    lines = [f"{name}: {FIGURES[name]}" for name in sorted(FIGURES)]
    terminalreporter.section(f"reliability figures ({connection.vendor}, {'full' if FULL else 'fast'} part)")
    for line in lines:
        terminalreporter.write_line(line)
    out = Path(__file__).resolve().parents[2] / "var" / "reliability-figures.txt"
    try:
        out.parent.mkdir(exist_ok=True)
        out.write_text(f"# {connection.vendor}, {'full' if FULL else 'fast'} part\n" + "\n".join(lines) + "\n")
    except OSError:
        pass


@pytest.fixture
def register(reference):
    return build_register()
