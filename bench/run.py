"""make bench: run every benchmark under bench/, one after the other (each writes its docs/benchmarks.md section)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Cheap first, so a failure shows early; each script documents its own options.
ORDER = ["api_works.py", "ogc.py", "maintenance_plan.py", "connectivity.py", "exports.py"]


def main() -> int:
    failed = []
    for name in ORDER + sorted(p.name for p in HERE.glob("*.py") if p.name not in ORDER and p.name != "run.py"):
        script = HERE / name
        if not script.exists():
            continue
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"== {name}: {'ok' if result.returncode == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print("Failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
