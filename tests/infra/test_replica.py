"""Public map reads from a streaming replica (infra/replica.py).

The rules on their own (which requests, which models, a write sending the rest of a request back to the
primary), then the whole of it end to end on PostGIS: a private primary cluster and a hot standby made
from it by pg_basebackup, the project served by gunicorn with DATABASE_URL on the primary and
DATABASE_REPLICA_URL on the standby. With the standby's replay paused, what an anonymous reader is
shown tells which copy answered.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests
from django.db import connection  # noqa: F401  (read by the skipif condition below)
from django.test import RequestFactory, override_settings

from gis.reading import reading_alias, reading_from
from infra.replica import ReplicaRouter, _public_read
from tests.reliability.servers import PG_BIN, ROOT, Gunicorn, PrivateCluster, StandbyCluster, child_env, wait_until

# --- the rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, cookies, headers, public", [
    ("GET", "/ogc/collections/works/items", {}, {}, True),
    ("HEAD", "/tiles/works/12/3276/1869.mvt", {}, {}, True),
    ("GET", "/api/works/?q=tram", {}, {}, True),
    ("GET", "/layers/works.geojson", {}, {}, True),
    ("GET", "/ogc/collections/works/items", {"sessionid": "x"}, {}, False),         # signed in (or may be)
    ("GET", "/api/works/", {}, {"HTTP_AUTHORIZATION": "Token abc"}, False),          # an API client's token
    ("POST", "/api/works/", {}, {}, False),                                           # a write
    ("GET", "/exports/works.csv", {}, {}, False),                                     # exports want the primary
    ("GET", "/works/1/history/", {}, {}, False),
    ("GET", "/admin/", {}, {}, False),
])
def test_only_anonymous_reads_of_the_map_paths_go_to_the_replica(method, path, cookies, headers, public):
    request = getattr(RequestFactory(), method.lower())(path, **headers)
    request.COOKIES.update(cookies)
    assert _public_read(request) is public


def test_the_router_reads_where_the_request_reads_and_writes_send_it_back_to_the_primary():
    from django.contrib.auth.models import User
    from django.contrib.sessions.models import Session

    from infra.works.models import Work

    router = ReplicaRouter()
    assert router.db_for_read(Work) == "default"  # outside a public read
    with reading_from("replica"):
        assert router.db_for_read(Work) == "replica" and router.db_for_read(None) == "replica"
        # Who is asking is always read from the primary.
        assert router.db_for_read(User) == "default" and router.db_for_read(Session) == "default"
        assert router.db_for_write(Work) == "default"
        assert router.db_for_read(Work) == "default" and reading_alias() == "default"  # read back what was written
    assert reading_alias() == "default"
    assert router.allow_migrate("default", "works") and not router.allow_migrate("replica", "works")


def test_a_replica_needs_a_postgis_primary():
    import os

    env = {**os.environ, "DATABASE_URL": "spatialite:///var/none.sqlite3",
           "DATABASE_REPLICA_URL": "postgis://postgres@127.0.0.1:5432/x", "DJANGO_SETTINGS_MODULE": "infra.settings"}
    checked = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode != 0 and "needs a postgis:// DATABASE_URL" in checked.stderr


def test_the_replica_keeps_its_own_connection_options_and_the_primarys_session_settings():
    import json
    import os

    env = {**os.environ, "DATABASE_URL": "postgis://postgres@127.0.0.1:5432/a?target_session_attrs=read-write",
           "DATABASE_REPLICA_URL": "postgis://postgres@replica.example:5432/a?sslmode=verify-full",
           "DJANGO_SETTINGS_MODULE": "infra.settings"}
    printed = subprocess.run(
        [sys.executable, "-c", "import json, django; django.setup(); from django.conf import settings; "
         "print(json.dumps(settings.DATABASES['replica']['OPTIONS']))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0, printed.stderr[-2000:]
    options = json.loads(printed.stdout.strip().splitlines()[-1])
    assert options["sslmode"] == "verify-full" and options["connect_timeout"] == 3
    assert "jit=off" in options["options"] and "target_session_attrs" not in options


# --- end to end: a primary, a hot standby, gunicorn ---------------------------------------------------

MAX_LAG = 8  # seconds: REPLICA_MAX_LAG_SECONDS of the served project

SETUP = """
import django
django.setup()
from django.core.management import call_command
from tests.infra.api.register import build_register
call_command("load_reference", verbosity=0)
build_register()
"""

CREATE = """
import sys, django
django.setup()
from django.contrib.gis.geos import Point
from infra.works.services import work_create
from tests.factories import PHONG_THO_POINT
work_create(user=None, code=sys.argv[1], name="Trạm y tế bản Mới", category="health",
            geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2026, stage="approved")
"""

postgis_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SpatiaLite has no replicas")


def _child(script: str, url: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=child_env(url), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The register in a primary and its hot standby, served with public reads from the standby."""
    if not (PG_BIN / "pg_basebackup").exists():
        pytest.skip(f"PostgreSQL server binaries are not in {PG_BIN}")
    primary = PrivateCluster()
    standby = server = None
    try:
        primary.psql("postgres", "CREATE DATABASE infra_replica")
        primary.psql("infra_replica", "CREATE EXTENSION postgis")
        url = primary.url("infra_replica")
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                  env=child_env(url), capture_output=True, text=True, timeout=900)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        _child(SETUP, url)
        standby = StandbyCluster(primary)
        standby.catch_up(primary)
        server = Gunicorn(url, workers=1, threads=2, log=tmp_path_factory.mktemp("replica") / "gunicorn.log",
                          extra={"DATABASE_REPLICA_URL": standby.url("infra_replica"),
                                 "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG)})
        yield primary, standby, server, url
    finally:
        if server is not None:
            server.stop()
        if standby is not None:
            standby.remove()
        primary.remove()


def _matched(server, headers=None) -> int:
    answer = requests.get(f"{server.url}/ogc/collections/works/items?limit=1", headers=headers or {}, timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()["numberMatched"]


def _fresh_replay(primary, standby, server) -> float:
    """A transaction on the primary, replayed by the standby, then a public read once the server's last answer
    on the replica's fitness has run out: the server has seen the replica holding the primary's newest
    position. Returns when the standby had caught up."""
    primary.psql("infra_replica", "CREATE TABLE replica_tick (); DROP TABLE replica_tick")
    standby.catch_up(primary)
    caught_up = time.monotonic()
    time.sleep(1.1)  # the process asks whether the replica is fit at most once a second
    _matched(server)
    return caught_up


@postgis_only
def test_anonymous_map_reads_come_from_the_replica_until_it_falls_behind_or_goes(served):
    primary, standby, server, url = served
    # A session cookie, as everyone signed in carries (this one names no session: the public's answer,
    # read from the primary).
    signed_in = {"Cookie": "sessionid=none"}
    published = _matched(server)
    assert published == _matched(server, signed_in) > 0

    # Replay paused just after a transaction was replayed: a work published on the primary now is on the
    # primary only. The anonymous reader is answered by the replica (not yet showing it), one with a
    # session by the primary.
    replayed_at = _fresh_replay(primary, standby, server)
    standby.replay(False)
    _child(CREATE, url, "REP-1")
    assert _matched(server, signed_in) == published + 1
    assert _matched(server) == published
    assert time.monotonic() - replayed_at < MAX_LAG, "the machine was too slow for this check to mean anything"

    # Once the replica has not replayed what the primary had written REPLICA_MAX_LAG_SECONDS ago, the primary
    # answers everyone (the replica is still streaming, and replays nothing).
    time.sleep(max(0.0, replayed_at + MAX_LAG + 2.5 - time.monotonic()))
    assert _matched(server) == published + 1

    # Replay resumed and caught up: the replica answers again (shown by pausing it once more).
    standby.replay(True)
    replayed_at = _fresh_replay(primary, standby, server)
    standby.replay(False)
    _child(CREATE, url, "REP-2")
    assert _matched(server) == published + 1 and _matched(server, signed_in) == published + 2
    assert time.monotonic() - replayed_at < MAX_LAG, "the machine was too slow for this check to mean anything"

    # The replica gone: the primary answers, nobody sees an error.
    standby.stop()
    time.sleep(1.1)
    assert _matched(server) == published + 2
    wait_until(lambda: "Read replica 'replica' not used: unreachable" in server.log.read_text(), seconds=10,
               what="the server's warning that the replica is unreachable")
