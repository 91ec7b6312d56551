"""Built tiles kept in memory, per process, by the state of the database they were built from.

A low-zoom tile of the country reads every work in a third of it to pick the largest (0.3–0.9 s at
1,000,000 works, docs/benchmarks.md), and it is the tile everyone opening the map asks for. Such a
tile is a function of what the database holds, the person's visibility and the query. What the
database holds is named by the session's snapshot (`pg_current_snapshot()`: the transactions
committed, running and not yet begun): any transaction that commits afterwards changes the snapshot
every later statement gets. The state is read before anything of the request (the query's commune
included), and the tile is built after it: a tile kept under a state is never older than that state.

The snapshot alone does not name everything:
- after a crash restart, transactions whose WAL never reached the disk are lost and their ids are
  given out again, so a snapshot's text can come back naming other rows; recovery ends with a
  checkpoint, so the last checkpoint's position and timeline are in the state too (a checkpoint
  every few minutes then also starts afresh);
- on a hot standby, the snapshot's text does not list the transactions running on the primary, so
  a commit there may leave it unchanged: the position replayed so far is in the state there;
- the database's name and the server's start time keep apart a restore, a failover, a restart.

Only the tiles of the latest state seen are kept: a new state drops the rest (no request after a
commit can ask for them). Each tile is charged its bytes and ENTRY_BYTES more (its key, an empty
tile), against TILE_CACHE_MB (settings, default 64; 0 turns it off); the least recently used go first.

Not kept: tiles at zoom 12 and above (cheap, and the most numerous), tiles of a commune officer
(their visibility is not a set of stages: policy.stages_seen_whole), and tiles read inside a
transaction that has written or locked rows (its own changes are in no snapshot). Any commit
anywhere in the cluster (a sign-in, an audit row, `ANALYZE`) starts afresh.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings

from gis.reading import reading_alias, reading_connection


__all__ = ["CACHED_BELOW_ZOOM", "ENTRY_BYTES", "TileCache", "database_state", "tile_cache"]

CACHED_BELOW_ZOOM = 12
# What an entry costs besides its tile: the key (state text, filters) and the dictionary's own share.
ENTRY_BYTES = 1024


class TileCache:
    """Tiles and their ETags of one database state, by key; at most `max_bytes` charged, the least recently
    used dropped first; a put under another state drops every tile of the previous one."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.state: str | None = None
        self._held: OrderedDict[Any, tuple[bytes, str, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, state: str, key: Any) -> tuple[bytes, str] | None:
        with self._lock:
            if state != self.state:
                return None
            found = self._held.get(key)
            if found is None:
                return None
            self._held.move_to_end(key)
            return found[0], found[1]

    def put(self, state: str, key: Any, data: bytes, etag: str, *, extra: int = 0) -> None:
        """Keep a tile built from `state`; `extra`: bytes its key holds beyond ENTRY_BYTES."""
        cost = len(data) + ENTRY_BYTES + extra
        with self._lock:
            if state != self.state:
                self._held.clear()
                self._size, self.state = 0, state
            previous = self._held.pop(key, None)
            if previous is not None:
                self._size -= previous[2]
            if cost > self.max_bytes:
                return
            self._held[key] = (data, etag, cost)
            self._size += cost
            while self._size > self.max_bytes:
                _key, (_data, _etag, dropped) = self._held.popitem(last=False)
                self._size -= dropped

    def __len__(self) -> int:
        return len(self._held)

    @property
    def size(self) -> int:
        """Bytes charged for the tiles held."""
        return self._size


_caches: dict[str, TileCache] = {}  # one per database read (the primary's, a replica's: their states differ)
_cache_lock = threading.Lock()


def tile_cache() -> TileCache | None:
    """The process's tile cache for the database this request reads from (gis.reading), or None when
    TILE_CACHE_MB is 0. With a read replica (infra/replica.py) a process keeps two: the primary's state
    and the replica's are never the same, and one cache for both would be emptied at every turn."""
    max_bytes = int(settings.TILE_CACHE_MB * 2**20)
    if max_bytes <= 0:
        return None
    alias = reading_alias()
    with _cache_lock:
        cache = _caches.get(alias)
        if cache is None or cache.max_bytes != max_bytes:
            cache = _caches[alias] = TileCache(max_bytes)
        return cache


_STATE = (
    "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN concat_ws('@', current_database(), "
    "pg_postmaster_start_time(), (pg_control_checkpoint()).timeline_id, (pg_control_checkpoint()).checkpoint_lsn, "
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() END, pg_current_snapshot()) END"
)


def database_state() -> str | None:
    """What this session's next statement reads, named (PostgreSQL; see the module's docstring); None
    inside a transaction that has written or locked rows, whose own changes no snapshot names."""
    with reading_connection().cursor() as cursor:
        cursor.execute(_STATE)
        return cursor.fetchone()[0]
