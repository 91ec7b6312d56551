"""Synthetic demo data for former Phong Thổ: villages, local roads, works, money, maintenance, users.

Everything here is invented (DOMAIN.md §5: no open village data exists) and every row it
writes is flagged ``is_demo``. The data is a pure function of the seed and the real reference
data, so two fresh databases get identical rows.
"""

from __future__ import annotations

from datetime import date

__all__ = ["CHANGE_REASON", "DEMO_COMMUNE_CODES", "GENERATOR_VERSION", "LAST_DAY", "MARKER_SOURCE", "SEED"]

SEED = 2022
# Bump when the generator changes what it writes: a database holding another version is refused
# rather than silently mixed (see loader.demo_state).
GENERATOR_VERSION = 2
# Written into every demo road's `source`; its presence tells a later run the demo is loaded.
MARKER_SOURCE = f"Dữ liệu mẫu tổng hợp, không phải số liệu khảo sát (load_demo v{GENERATOR_VERSION})"
# Stored as the reason of the history rows this loader writes directly, so an auditor can tell
# demo rows from edits by people.
CHANGE_REASON = "load_demo"

# Today's communes that cover former Phong Thổ (DOMAIN.md §5), all current units (valid_to null).
DEMO_COMMUNE_CODES = ("03549", "03571", "03562", "03583", "03394", "03388")

# The last day any generated event may fall on. Fixed (not date.today()) so that the rows do not
# depend on the day the command runs; it lies just before the project's "today" (2026-11-28).
LAST_DAY = date(2026, 11, 20)
