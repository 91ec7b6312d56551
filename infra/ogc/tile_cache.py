"""Built tiles kept in memory, per process, by the state of the database they were built from.

A low-zoom tile of the country reads every work in a third of it to pick the largest (0.3–0.9 s at
1,000,000 works, docs/benchmarks.md), and it is the tile everyone opening the map asks for. Such a
tile is a function of what the database holds, the person's visibility and the query. What the
database holds is named exactly by the session's snapshot (`pg_current_snapshot()`: the transactions
committed, running and not yet begun): any transaction that commits anything afterwards changes the
snapshot every later statement gets. So a tile is kept under the snapshot taken just before it is
built; a later request whose snapshot is the same reads the same rows, and is given the kept tile. A
tile built from a newer state than its key (a commit between the two statements) is newer than what
the key's readers would see, never older.

Not kept: tiles at zoom 12 and above (cheap, and the most numerous), tiles of a commune officer
(their visibility is not a set of stages: policy.stages_seen_whole), and tiles read inside a
transaction that has written (its own changes are not in its snapshot). Each key also holds the
database's name and the server's start time, so a restore, a failover or a restart never meets an old
tile. TILE_CACHE_MB (settings, default 64; 0 turns it off) bounds each process's tiles; the least
recently used go first. Any write anywhere in the cluster (a sign-in, an audit row) starts afresh.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import connection

__all__ = ["CACHED_BELOW_ZOOM", "TileCache", "database_state", "tile_cache"]

CACHED_BELOW_ZOOM = 12


class TileCache:
    """Tiles and their ETags by key, at most `max_bytes` of tiles, the least recently used dropped first."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._held: OrderedDict[Any, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._held.get(key)
            if found is not None:
                self._held.move_to_end(key)
            return found

    def put(self, key: Any, data: bytes, etag: str) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            previous = self._held.pop(key, None)
            if previous is not None:
                self._size -= len(previous[0])
            self._held[key] = (data, etag)
            self._size += len(data)
            while self._size > self.max_bytes:
                _key, (dropped, _etag) = self._held.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._held)

    @property
    def size(self) -> int:
        return self._size


_cache: TileCache | None = None


def tile_cache() -> TileCache | None:
    """The process's tile cache, or None when TILE_CACHE_MB is 0."""
    global _cache
    max_bytes = int(settings.TILE_CACHE_MB * 2**20)
    if max_bytes <= 0:
        return None
    if _cache is None or _cache.max_bytes != max_bytes:
        _cache = TileCache(max_bytes)
    return _cache


_STATE = ("SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN "
          "current_database() || '@' || pg_postmaster_start_time() || '@' || pg_current_snapshot()::text END")


def database_state() -> str | None:
    """What this session's next statement reads, named (PostgreSQL): the database, the server's start and
    the snapshot; None inside a transaction that has written, whose own changes no snapshot names."""
    with connection.cursor() as cursor:
        cursor.execute(_STATE)
        return cursor.fetchone()[0]
