"""The PostGIS backend's health check (infra/backends/postgis): a kept connection that is idle and quiet
is used without a round trip; one the server has ended is dropped and replaced before a request's
first query; anything it cannot tell from the socket gets Django's own `SELECT 1`."""
from __future__ import annotations

import time

import pytest
from django.db import close_old_connections, connection, transaction

from infra.backends.postgis.base import socket_quiet
from infra.works.models import Work
from tests.factories import WorkFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the check is the PostGIS backend's"),
]


@pytest.fixture
def other(other_session):
    """A second session, to watch and to end the app's one."""
    return other_session


def last_statement(other, pid: int) -> str:
    with other.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def app_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() AS health_check_probe")
        return cursor.fetchone()[0]


def wait_until_readable(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while socket_quiet(connection.connection.fileno()):
        assert time.monotonic() < deadline, "the server's goodbye never reached the socket"
        time.sleep(0.01)


def test_an_idle_quiet_connection_is_usable_without_a_statement(other):
    pid = app_pid()
    assert connection.is_usable()
    assert "health_check_probe" in last_statement(other, pid)


def test_inside_a_transaction_it_asks_the_server(other):
    pid = app_pid()
    with transaction.atomic():
        Work.objects.exists()
        assert connection.is_usable()
        assert last_statement(other, pid) == "SELECT 1"


def test_a_connection_the_server_ended_is_replaced_before_the_next_query(other):
    WorkFactory()
    pid = app_pid()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_until_readable()
    assert not connection.is_usable()
    close_old_connections()  # what a request's start does: the next query checks the connection first
    assert Work.objects.count() == 1
    assert app_pid() != pid


def test_a_message_waiting_on_a_live_connection_is_asked_about_not_dropped(other):
    pid = app_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    with other.cursor() as cursor:
        cursor.execute("NOTIFY health_check_test")
    wait_until_readable()
    assert connection.is_usable()  # Django's SELECT 1 answered; the connection is kept
    assert last_statement(other, pid) == "SELECT 1"
    assert app_pid() == pid
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
