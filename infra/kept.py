"""Values a process works out once and keeps: a dict with a limit, emptied when full.

A page's hot path keeps small texts and choices keyed on everything they depend on (a host's headers, an
Accept-Language header, a statement's shape). The keys come from requests, so the number kept is bounded:
at the limit the dict is emptied and filled again from what is asked next. Emptying, rather than evicting
the oldest, costs nothing on a hit (a look-up is dict.get's), and the limits are set far above what a
real client mix asks for, so a full dict means someone sends many different keys on purpose.
"""
from __future__ import annotations

from typing import TypeVar

__all__ = ["Kept"]

K = TypeVar("K")
V = TypeVar("V")


class Kept(dict[K, V]):
    """A dict of at most `limit` entries; read it with get(), fill it with keep()."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a Kept dict keeps at least one value")
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: V) -> V:
        """Keep `value` under `key` (emptying the dict first when it is full) and return it."""
        if key not in self and len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
