"""A plain progress bar on stderr for long command-line runs (no terminal library needed)."""
from __future__ import annotations

import sys
import time
from typing import IO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Call with a count (of `total`) or a step name; redraws at most ten times a second."""

    def __init__(self, total: int | None, *, stream: IO[str] | None = None, width: int = 40):
        self.total, self.stream, self.width = total, stream or sys.stderr, width
        self.started = self._drawn = time.monotonic()

    def __call__(self, done: int | str) -> None:
        now = time.monotonic()
        if isinstance(done, str):
            self.stream.write(f"\r{done:<60} {now - self.started:6.1f}s")
        elif self.total:
            if now - self._drawn < 0.1 and done < self.total:
                return
            share = min(1.0, done / self.total)
            filled = int(share * self.width)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{self.total:,} "
                              f"{share:4.0%} {now - self.started:6.1f}s")
        else:
            self.stream.write(f"\r{done:,} {now - self.started:6.1f}s")
        self._drawn = now
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
