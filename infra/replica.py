"""Public map reads from a PostgreSQL streaming replica (docs/scaling.md, step 3; docs/operator-guide.md).

With `DATABASE_REPLICA_URL` set (infra/settings.py), a request reads from the replica when all of this
holds, and from the primary otherwise:
- it is anonymous: no session cookie and no Authorization header. The public and the Fatherland
  Front looking at the map are most of the traffic; everyone signed in (the board, commune officers,
  planners, auditors) reads the primary, so nobody who edits ever reads behind their own edits;
- it is a GET or HEAD of a path listed in `REPLICA_READ_PATHS` (the map's layers, `/api/works/`,
  `/ogc/`, `/tiles/`): pages that answer from one statement, not exports or history, which want
  one snapshot of the primary;
- the replica is fit to answer (`replica_fit`, asked at most once a second per process): it is in
  recovery (a standby, not a promoted copy left behind) and has replayed what the primary had
  written `REPLICA_MAX_LAG_SECONDS` ago (`_Fitness`). A replica that is down, or further behind,
  is skipped: the primary answers, and a warning is logged.

Within such a request the ORM reads through `ReplicaRouter` and the package gis reads through
`gis.reading`; who is asking (sessions, users, roles: the identity apps) is always read from the
primary. Any write sends the rest of the request back to the primary. Migrations run on the
primary only; the replica gets them by replication.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from gis.reading import reading_alias, reading_from, reading_stops

__all__ = ["REPLICA", "ReplicaReadsMiddleware", "ReplicaRouter", "replica_fit"]

logger = logging.getLogger(__name__)

REPLICA = "replica"
# Who is asking, and what they may do: never read behind a change.
IDENTITY_APPS = frozenset({"auth", "sessions", "authtoken", "accounts", "admin", "contenttypes"})
FIT_FOR_SECONDS = 1.0
UNREACHABLE_FOR_SECONDS = 10.0  # a replica that did not answer is asked again after this long, not every second

_PRIMARY_AT = "SELECT pg_current_wal_lsn()::text"
_REPLICA_AT = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"


class ReplicaRouter:
    """Reads go where the request reads from (gis.reading); writes, migrations and identity go to the primary."""

    def db_for_read(self, model, **hints):
        if model is not None and model._meta.app_label in IDENTITY_APPS:
            return DEFAULT_DB_ALIAS
        return reading_alias()

    def db_for_write(self, model, **hints):
        reading_stops()  # what this request writes, it reads back from the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class _Fitness:
    """Whether one replica may answer, asked at most once a second (every ten while it does not answer).

    Each time: the primary's WAL position now, then whether the replica has replayed up to it. The
    positions asked of the primary are kept with when they were asked, so a replica that has not
    replayed the newest has still replayed up to an older one: it is as far behind as that one is old.
    This needs nothing from the replica's own view of its stream (which a role without
    pg_read_all_stats cannot see): a replica cut off from the primary stops replaying new positions
    and so falls behind, however idle it looks; an idle primary's position does not move, so its
    replica is never behind."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        self.until, self.fit, self.asking = 0.0, False, False
        self.positions: deque[tuple[float, int]] = deque()  # (when, the primary's position), oldest first

    def __call__(self) -> bool:
        now = time.monotonic()
        with self.lock:
            if now < self.until or self.asking:
                return self.fit  # one thread asks; the others keep the last answer meanwhile
            self.asking = True
        try:
            fit, why = self._ask()
        except BaseException:
            with self.lock:
                self.asking = False
            raise
        wait = UNREACHABLE_FOR_SECONDS if why.startswith("unreachable") else FIT_FOR_SECONDS
        with self.lock:  # the answer and its lifetime together, so no other thread asks in between
            before, self.fit = self.fit, fit
            self.until, self.asking = time.monotonic() + wait, False
        if before and not fit:
            logger.warning("Read replica %r not used: %s; the primary answers public reads", self.alias, why)
        elif fit and not before:
            logger.warning("Read replica %r answers public reads", self.alias)
        return fit

    def _ask(self) -> tuple[bool, str]:
        limit = settings.REPLICA_MAX_LAG_SECONDS
        try:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute(_PRIMARY_AT)
                position = _lsn(cursor.fetchone()[0])
        except DatabaseError:
            # The primary is down: the view will say so (503), as without a replica.
            return False, "unreachable primary"
        now = time.monotonic()
        self.positions.append((now, position))
        while now - self.positions[0][0] > limit:
            self.positions.popleft()  # older than the limit: a replica behind it is too far behind anyway
        try:
            with connections[self.alias].cursor() as cursor:
                cursor.execute(_REPLICA_AT)
                in_recovery, replayed = cursor.fetchone()
        except DatabaseError as error:
            connections[self.alias].close()  # a broken connection is opened afresh on the next try
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return False, f"unreachable ({first})"
        if not in_recovery:
            return False, "not in recovery (not a standby)"
        replayed = _lsn(replayed) if replayed else -1
        caught_up = [i for i, (_when, wanted) in enumerate(self.positions) if replayed >= wanted]
        if not caught_up:
            return False, f"behind: it has not replayed what the primary had written {limit:g} s ago"
        for _ in range(caught_up[-1]):
            self.positions.popleft()  # the newest position it has replayed, and those after it, are all that matter
        return True, ""


def _lsn(text: str) -> int:
    """A WAL position ("16/B374D848") as a number."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


_fitness: dict[str, _Fitness] = {}
_fitness_lock = threading.Lock()


def replica_fit(alias: str = REPLICA) -> bool:
    """Whether the replica may answer now (see the module's docstring and `_Fitness`)."""
    with _fitness_lock:
        fitness = _fitness.get(alias)
        if fitness is None:
            fitness = _fitness[alias] = _Fitness(alias)
    return fitness()


def _public_read(request) -> bool:
    return (request.method in ("GET", "HEAD")
            and request.path_info.startswith(settings.REPLICA_READ_PATHS)
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "HTTP_AUTHORIZATION" not in request.META)


class ReplicaReadsMiddleware:
    """Hand anonymous map reads to the replica, when one is configured and fit (see the module's docstring)."""

    def __init__(self, get_response):
        if REPLICA not in settings.DATABASES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        with reading_for(request):
            return self.get_response(request)


@contextmanager
def reading_for(request) -> Iterator[None]:
    """Read from the replica within this block when the request is an anonymous map read and a replica is
    configured and fit; from the primary otherwise. The middleware's rule, also followed by the public
    pages' shortcut (infra/public.py), which answers some requests without the middleware."""
    if REPLICA in settings.DATABASES and _public_read(request) and replica_fit():
        with reading_from(REPLICA):
            yield
    else:
        yield
