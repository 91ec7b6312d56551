"""Low-zoom tiles kept by the database state they were built from (infra/ogc/tile_cache.py): a repeat is
not built again, any commit is in the next tile, and no one is given a tile kept for someone who sees
more. Transactional tests: the state is named by committed transactions."""
from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from infra.accounts.models import Role
from infra.ogc import tile_cache as tile_cache_module
from infra.ogc.tile_cache import TileCache, database_state, tile_cache
from infra.works.choices import Stage
from tests.factories import WorkFactory, user_with_role
from tests.infra.ogc.test_tiles import decode, tile_of, url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="vector tiles are built by PostGIS"),
]

HERE = (103.36, 22.53)
LOW = url("works", *tile_of(*HERE, 8))


@pytest.fixture
def cache(settings):
    settings.TILE_CACHE_MB = 8
    tile_cache_module._cache = None
    yield tile_cache()
    tile_cache_module._cache = None


def built(captured) -> bool:
    return any("ST_AsMVT" in query["sql"] for query in captured.captured_queries)


def ask(client, path: str, **headers):
    """GET the tile while nothing else commits (another session may commit at any time, which rightly
    starts afresh): tries again when the database's state changed during the request."""
    for _ in range(10):
        before = database_state()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, **headers)
        if database_state() == before:
            return response, built(captured)
    pytest.fail("another session committed during every try")


def ids(response) -> set[int]:
    return {feature["id"] for feature in decode(response).get("works", {}).get("features", [])}


def test_a_repeated_low_zoom_tile_is_not_built_again(client, cache):
    work = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    first, _ = ask(client, LOW)
    second, was_built = ask(client, LOW)
    assert not was_built and len(cache) == 1
    assert second.content == first.content and ids(second) == {work.pk}
    assert second["ETag"] == first["ETag"] and second["Cache-Control"] == "public, max-age=300"
    third, was_built = ask(client, LOW, HTTP_IF_NONE_MATCH=first["ETag"])
    assert third.status_code == 304 and not was_built


def test_a_commit_is_in_the_next_tile(client, cache):
    first = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    assert ids(ask(client, LOW)[0]) == {first.pk}
    second = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.APPROVED)
    response, was_built = ask(client, LOW)
    assert was_built and ids(response) == {first.pk, second.pk}
    first.stage = Stage.PROPOSED  # no longer public
    first.save(update_fields=["stage"])
    response, was_built = ask(client, LOW)
    assert was_built and ids(response) == {second.pk}


def test_the_public_is_never_given_the_tile_kept_for_the_board(client, cache):
    from django.test import Client

    public = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    proposal = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.PROPOSED)
    board = Client()
    board.force_login(user_with_role(Role.BOARD))
    for _ in range(10):  # both in one state of the database, so that only the person tells them apart
        before = database_state()
        for_board, for_public = board.get(LOW), client.get(LOW)
        if database_state() == before:
            break
    else:
        pytest.fail("another session committed during every try")
    assert ids(for_board) == {public.pk, proposal.pk}
    assert ids(for_public) == {public.pk}
    assert len(cache) == 2


def test_commune_officers_high_zooms_and_writing_transactions_are_not_kept(client, cache):
    WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    client.force_login(user_with_role(Role.COMMUNE_OFFICER))
    assert ask(client, LOW)[1] and ask(client, LOW)[1]  # built every time
    client.logout()
    assert ask(client, url("works", *tile_of(*HERE, 14)))[1] and ask(client, url("works", *tile_of(*HERE, 14)))[1]
    assert len(cache) == 0
    with transaction.atomic():
        assert database_state() is not None  # nothing written yet
        WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
        assert database_state() is None  # its own change is in no snapshot


def test_with_no_megabytes_nothing_is_kept(client, settings):
    settings.TILE_CACHE_MB = 0
    WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    assert tile_cache() is None
    assert ask(client, LOW)[1] and ask(client, LOW)[1]


def test_the_least_recently_used_go_first_and_the_bytes_stay_bounded():
    cache = TileCache(100)
    cache.put("a", b"x" * 60, "ea")
    cache.put("b", b"x" * 30, "eb")
    assert cache.get("a") == (b"x" * 60, "ea")  # now the most recently used
    cache.put("c", b"x" * 30, "ec")
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.size == 90
    cache.put("huge", b"x" * 101, "eh")
    assert cache.get("huge") is None and cache.size == 90
    cache.put("a", b"x" * 10, "ea2")
    assert cache.get("a") == (b"x" * 10, "ea2") and cache.size == 40
