"""Pages of works without a box are prepared statements (PostgreSQL plans each shape once per session,
gis.layers._execute_prepared): the same answers, at every offset, through rollbacks and reconnections."""
from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from gis import layers
from infra.works.choices import Category, Stage
from tests.factories import WorkFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite's driver keeps its own statement cache"),
]


@pytest.fixture
def works(db):
    # Statements prepared by earlier tests outlive their rollback: start from none, as a new session would.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection._layer_pages_prepared = None
    return [WorkFactory(category=category, stage=Stage.APPROVED)
            for category in [Category.HEALTH] * 5 + [Category.SCHOOL] * 2 + [Category.WATER, Category.CULTURE]]


def prepared() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE name LIKE 'layer\\_page\\_%%'")
        return {name: (generic, custom) for name, generic, custom in cursor.fetchall()}


def ids(client, query: str) -> list[int]:
    return [f["id"] for f in json.loads(client.get(f"/ogc/collections/works/items?{query}").content)["features"]]


def test_every_offset_of_one_page_size_is_one_statement_planned_once(client, works):
    everything = sorted(w.pk for w in works)
    walked = [i for offset in range(0, 10, 2) for i in ids(client, f"limit=2&offset={offset}")]
    assert walked == everything
    for _ in range(6):
        assert ids(client, "limit=2&offset=4") == everything[4:6]
    ((generic, custom),) = prepared().values()
    # One plan for every offset (plan_cache_mode, infra/settings.py): never planned again.
    assert custom == 0 and generic == 11


def test_a_box_is_not_prepared(client, works):
    assert len(ids(client, "limit=3&bbox=100,10,110,30")) == 3
    assert prepared() == {}


def test_the_oldest_shapes_are_dropped(client, works, monkeypatch):
    monkeypatch.setattr(layers, "PREPARED_MAX", 2)
    for category in ("health", "school", "water", "culture"):
        assert len(ids(client, f"category={category}")) == {"health": 5, "school": 2}.get(category, 1)
    assert len(prepared()) == 2
    assert len(ids(client, "category=health")) == 5  # prepared again


def test_a_rollback_keeps_pages_right(client, works):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert len(ids(client, "limit=4")) == 4
        raise RuntimeError  # the statement outlives the rollback, and is known to
    assert len(ids(client, "limit=4")) == 4
    assert len(prepared()) == 1


@pytest.mark.django_db(transaction=True)
def test_sessions_of_other_threads_coming_and_going_leave_this_one_right(client, works):
    import threading

    from django.db import connections
    from django.test import Client

    assert len(ids(client, "limit=4")) == 4
    answers = []

    def elsewhere() -> None:
        try:
            answers.append(Client().get("/ogc/collections/works/items?limit=4").status_code)
        finally:
            connections.close_all()  # this thread's session ends

    for _ in range(40):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(30)
    assert answers == [200] * 40
    for _ in range(3):
        assert len(ids(client, "limit=4")) == 4  # still known to be prepared in this session, and it is


@pytest.mark.django_db(transaction=True)
def test_a_new_session_prepares_again(client, works):
    assert len(ids(client, "limit=4")) == 4
    before = connection.connection.info.backend_pid
    connection.close()  # the next request opens a new session, which holds no statements
    assert len(ids(client, "limit=4&offset=8")) == 1
    assert connection.connection.info.backend_pid != before and len(prepared()) == 1
