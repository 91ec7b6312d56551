"""make bench: run every benchmark under bench/, one after the other (each writes its docs/benchmarks.md section).

The national runs share bench/national.py's synthetic country (generated once, then reused), so it
comes first among them. The whole suite is meant to finish within 30 minutes on a 2-core machine.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Cheap first, so a failure shows early; each script documents its own options.
ORDER = [
    ["api_works.py"],
    ["ogc.py"],
    ["maintenance_plan.py"],
    ["connectivity.py"],
    ["national.py"],
    ["ogc.py", "--national", "--rounds", "30", "--peer-rounds", "10"],
    ["idle.py"],
    ["search.py"],
    ["exports.py"],
]


def main() -> int:
    failed = []
    named = {command[0] for command in ORDER}
    others = [[p.name] for p in sorted(HERE.glob("*.py")) if p.name not in named and p.name != "run.py"]
    suite_start = time.perf_counter()
    for command in ORDER + others:
        script = HERE / command[0]
        if not script.exists():
            continue
        label = " ".join(command)
        print(f"== {label}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *command[1:]], cwd=HERE.parent)
        print(f"== {label}: {'ok' if result.returncode == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s",
              flush=True)
        if result.returncode:
            failed.append(label)
    print(f"== make bench: {time.perf_counter() - suite_start:.0f} s in all", flush=True)
    if failed:
        print("Failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
