"""Low-zoom tiles kept by the database state they were built from (infra/ogc/tile_cache.py): a repeat is
not built again, any commit is in the next tile, and no one is given a tile kept for another tile, another
query or someone who sees more. Transactional tests: the state is named by committed transactions."""
from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from infra.accounts.models import Role
from infra.ogc import tile_cache as tile_cache_module
from infra.ogc import tiles
from infra.ogc.tile_cache import ENTRY_BYTES, TileCache, database_state, tile_cache
from infra.works.choices import Category, Stage
from tests.factories import UserFactory, WorkFactory, user_with_role
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
    tile_cache_module._caches.clear()
    yield tile_cache()
    tile_cache_module._caches.clear()


@pytest.fixture
def other(other_session):
    """A second session, which commits while a request is being served."""
    return other_session


def in_one_state(cache, *requests):
    """Make the requests (client, path, headers) while no other session commits (one may, any time, which
    rightly starts afresh: then try again from an empty cache). Returns each answer and whether its tile
    statement ran."""
    for _ in range(10):
        cache.state = None  # nothing kept
        before = database_state()
        answers = []
        for client, path, headers in requests:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, **headers)
            answers.append((response, any("ST_AsMVT" in q["sql"] for q in captured.captured_queries)))
        if database_state() == before:
            return answers
    pytest.fail("another session committed during every try")


def ids(response) -> set[int]:
    return {feature["id"] for feature in decode(response).get("works", {}).get("features", [])}


def test_a_repeated_low_zoom_tile_is_not_built_again(client, cache):
    work = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    (first, built_first), (second, built_second), (third, built_third) = in_one_state(
        cache, (client, LOW, {}), (client, LOW, {}), (client, LOW, {"HTTP_IF_NONE_MATCH": '"x", "y"'}))
    assert built_first and not built_second and not built_third and len(cache) == 1
    assert second.content == first.content == third.content and ids(second) == {work.pk}
    assert second["ETag"] == first["ETag"] and second["Cache-Control"] == "public, max-age=300"
    ((not_modified, built),) = in_one_state(cache, (client, LOW, {"HTTP_IF_NONE_MATCH": first["ETag"]}))
    assert not_modified.status_code == 304 and built  # a new try starts from an empty cache


def test_other_tiles_and_other_queries_are_not_given_a_kept_tile(client, cache):
    health = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED, category=Category.HEALTH)
    school = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.APPROVED,
                         category=Category.SCHOOL)
    z, x, y = tile_of(*HERE, 8)
    answers = in_one_state(cache, *[(client, path, {}) for path in (
        LOW, f"{LOW}?category=school", f"{LOW}?category=health", url("works", z + 1, 2 * x, 2 * y),
        url("works", z + 1, x, y), url("works", z, x + 1, y), url("works", z, x, y + 1), LOW)])
    assert [built for _response, built in answers] == [True] * 7 + [False]
    assert [ids(response) for response, _built in answers[:3]] == [{health.pk, school.pk}, {school.pk}, {health.pk}]
    assert len(cache) == 7


def test_each_layer_has_its_own_tiles(client, cache, reference):
    z, x, y = tile_of(*HERE, 8)
    answers = in_one_state(cache, *[(client, url(layer, z, x, y), {}) for layer in ("communes", "roads")])
    assert all(built for _response, built in answers)
    assert [set(decode(response)) for response, _built in answers] == [{"communes"}, {"roads"}]


def test_a_commit_during_the_build_is_never_hidden_by_the_kept_tile(client, cache, other, monkeypatch):
    shown = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    published = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.PROPOSED)
    built = tiles.tile_bytes

    def build_then_someone_publishes(*args, **kwargs):
        data = built(*args, **kwargs)
        with other.cursor() as cursor:  # commits after the tile was built from the rows before it
            cursor.execute("UPDATE works_work SET stage = 'approved' WHERE id = %s", [published.pk])
        return data

    monkeypatch.setattr(tiles, "tile_bytes", build_then_someone_publishes)
    assert ids(client.get(LOW)) == {shown.pk}
    monkeypatch.setattr(tiles, "tile_bytes", built)
    assert ids(client.get(LOW)) == {shown.pk, published.pk}


def test_a_transaction_open_before_the_tile_was_kept_is_in_the_next_tile_once_it_commits(client, cache, other):
    shown = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    published = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.PROPOSED)
    other.autocommit = False
    with other.cursor() as cursor:  # running while the tile is built and kept
        cursor.execute("UPDATE works_work SET stage = 'approved' WHERE id = %s", [published.pk])
    # A later transaction that ends first: the snapshot's upper bound no longer moves when the first ends.
    WorkFactory(geometry=Point(100.0, 10.0, srid=4326), stage=Stage.APPROVED)
    assert ids(client.get(LOW)) == {shown.pk} and len(cache) == 1
    other.commit()
    assert ids(client.get(LOW)) == {shown.pk, published.pk}


def test_a_commit_is_in_the_next_tile_and_drops_what_was_kept(client, cache):
    first = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    assert ids(client.get(LOW)) == {first.pk}
    second = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.APPROVED)
    assert ids(client.get(LOW)) == {first.pk, second.pk}
    first.stage = Stage.PROPOSED  # no longer public
    first.save(update_fields=["stage"])
    assert ids(client.get(LOW)) == {second.pk}
    assert len(cache) == 1  # only the latest state's tiles are kept


def test_no_one_is_given_the_tile_kept_for_someone_who_sees_more(client, cache):
    public = WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    proposal = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.PROPOSED)
    board, no_role, planner = Client(), Client(), Client()
    board.force_login(user_with_role(Role.BOARD))
    no_role.force_login(UserFactory())  # signed in, but with no role: sees what the public sees
    planner.force_login(user_with_role(Role.PLANNER))
    answers = in_one_state(cache, (board, LOW, {}), (no_role, LOW, {}), (client, LOW, {}), (planner, LOW, {}))
    assert [ids(response) for response, _built in answers] == [{public.pk, proposal.pk}, {public.pk}, {public.pk},
                                                               {public.pk, proposal.pk}]
    # The public and the signed-in without a role see the same; so do the board and planners.
    assert [built for _response, built in answers] == [True, True, False, False]
    assert [response["Cache-Control"] for response, _built in answers] == [
        "private, max-age=60", "private, max-age=60", "public, max-age=300", "private, max-age=60"]


def test_commune_officers_high_zooms_and_writing_transactions_are_not_kept(client, cache):
    WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    officer = Client()
    officer.force_login(user_with_role(Role.COMMUNE_OFFICER))
    high = url("works", *tile_of(*HERE, 14))
    answers = in_one_state(cache, (officer, LOW, {}), (officer, LOW, {}), (client, high, {}), (client, high, {}))
    assert all(built for _response, built in answers) and len(cache) == 0
    with transaction.atomic():
        assert database_state() is not None  # nothing written yet
        added = WorkFactory(geometry=Point(HERE[0] + 0.01, HERE[1], srid=4326), stage=Stage.APPROVED)
        assert database_state() is None  # its own change is in no snapshot
        assert added.pk in ids(client.get(LOW)) and len(cache) == 0


def test_with_no_megabytes_nothing_is_kept(client, settings):
    settings.TILE_CACHE_MB = 0
    WorkFactory(geometry=Point(*HERE, srid=4326), stage=Stage.APPROVED)
    assert tile_cache() is None
    with CaptureQueriesContext(connection) as captured:
        client.get(LOW)
        client.get(LOW)
    assert sum("ST_AsMVT" in q["sql"] for q in captured.captured_queries) == 2


def test_empty_tiles_and_long_queries_are_charged_so_the_bytes_stay_bounded(client, settings):
    settings.TILE_CACHE_MB = 10 * ENTRY_BYTES / 2**20  # room for ten empty tiles with no query
    tile_cache_module._caches.clear()
    cache = tile_cache()
    answers = in_one_state(cache, *[(client, f"{LOW}?q=nothing{i}", {}) for i in range(25)])
    assert all(response.content == b"" for response, _built in answers)
    # Each is charged its key's query too (9 characters here): nine fit.
    assert len(cache) == 9 and cache.size == 9 * (ENTRY_BYTES + len("nothing24")) <= cache.max_bytes
    tile_cache_module._caches.clear()


def test_the_least_recently_used_go_first_and_a_new_state_drops_the_old():
    cache = TileCache(100 + 3 * ENTRY_BYTES)
    cache.put("s1", "a", b"x" * 60, "ea")
    cache.put("s1", "b", b"x" * 30, "eb")
    assert cache.get("s1", "a") == (b"x" * 60, "ea")  # now the most recently used
    cache.put("s1", "c", b"x" * 30, "ec")
    assert cache.get("s1", "b") is None and cache.get("s1", "a") and cache.get("s1", "c")
    assert cache.size == 90 + 2 * ENTRY_BYTES
    cache.put("s1", "huge", b"x" * 101 + b"x" * 3 * ENTRY_BYTES, "eh")
    assert cache.get("s1", "huge") is None and cache.size == 90 + 2 * ENTRY_BYTES
    assert cache.get("s2", "a") is None  # asked under another state
    cache.put("s2", "d", b"x", "ed")
    assert len(cache) == 1 and cache.get("s1", "a") is None and cache.get("s2", "d") == (b"x", "ed")


def test_each_database_read_has_its_own_cache(settings):
    # A primary's state and its replica's never match (infra/replica.py): one cache for both would be
    # emptied whenever a signed-in and an anonymous request took turns.
    from gis.reading import reading_from

    tile_cache_module._caches.clear()
    primary = tile_cache()
    with reading_from("replica"):
        replica = tile_cache()
        assert tile_cache() is replica
    assert replica is not primary and tile_cache() is primary
    primary.put("primary state", "a", b"x", "ea")
    replica.put("replica state", "a", b"y", "ea")
    assert primary.get("primary state", "a") == (b"x", "ea") and replica.get("replica state", "a") == (b"y", "ea")
    tile_cache_module._caches.clear()
