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
  recovery (a standby, not a promoted copy left behind) and either has replayed everything it
  received or replayed a transaction within `REPLICA_MAX_LAG_SECONDS`. A replica that is down, or
  further behind, is skipped: the primary answers, and a warning is logged.

Within such a request the ORM reads through `ReplicaRouter` and the package gis reads through
`gis.reading`; who is asking (sessions, users, roles: the identity apps) is always read from the
primary. Any write sends the rest of the request back to the primary. Migrations run on the
primary only; the replica gets them by replication.
"""
from __future__ import annotations

import logging
import threading
import time

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

_FIT = (
    "SELECT pg_is_in_recovery(), "
    "pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(), "
    "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
)


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


_checked: dict[str, tuple[float, bool]] = {}  # per process: alias → (asked again after, fit)
_checked_lock = threading.Lock()


def replica_fit(alias: str = REPLICA) -> bool:
    """Whether the replica may answer now (see the module's docstring); asked at most once a second, and once
    every ten seconds while it does not answer (each try may wait for its connection's timeout)."""
    now = time.monotonic()
    with _checked_lock:
        until, fit = _checked.get(alias, (now, False))
        if now < until:
            return fit
    fit, why = _ask(alias)
    wait = UNREACHABLE_FOR_SECONDS if why.startswith("unreachable") else FIT_FOR_SECONDS
    with _checked_lock:
        before = _checked.get(alias, (0.0, True))[1]
        _checked[alias] = (time.monotonic() + wait, fit)
    if before and not fit:
        logger.warning("Read replica %r not used: %s; the primary answers public reads", alias, why)
    elif fit and not before:
        logger.warning("Read replica %r answers public reads again", alias)
    return fit


def _ask(alias: str) -> tuple[bool, str]:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(_FIT)
            in_recovery, caught_up, age = cursor.fetchone()
    except DatabaseError as error:
        connections[alias].close()  # a broken connection is opened afresh on the next try
        return False, f"unreachable ({str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__})"
    if not in_recovery:
        return False, "not in recovery (not a standby)"
    if caught_up:
        return True, ""
    limit = settings.REPLICA_MAX_LAG_SECONDS
    if age is not None and float(age) <= limit:
        return True, ""
    return False, f"behind: last transaction replayed {'never' if age is None else f'{float(age):.0f} s ago'} (limit {limit} s)"


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
        if _public_read(request) and replica_fit():
            with reading_from(REPLICA):
                return self.get_response(request)
        return self.get_response(request)
