"""Django's PostGIS backend, with a health check that costs no round trip when nothing is wrong.

Django checks a kept connection (CONN_HEALTH_CHECKS) before a request's first query by sending
`SELECT 1`: 0.1–0.2 ms on every request, as much as a small map page's own statement. An idle
PostgreSQL connection has nothing to say until it is asked: the server writes to it unasked only
when it ends the session (a restart, pg_terminate_backend, idle_session_timeout), and then the
socket becomes readable (its error message, then the end of the stream). So a kept connection that
is idle, outside a transaction and has nothing waiting on its socket is usable, which a zero-timeout
poll() answers in microseconds; anything else gets Django's own check.

A server that dies between the check and the query is the same race as with `SELECT 1`: the query
fails, and infra.middleware.DatabaseUnavailableMiddleware answers 503.
"""
from __future__ import annotations

import select

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

__all__ = ["DatabaseWrapper"]


def socket_quiet(fileno: int) -> bool:
    """Whether nothing waits to be read on the socket (poll with a zero timeout)."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


class DatabaseWrapper(PostGISDatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        try:
            if (not connection.closed and connection.get_transaction_status() == TRANSACTION_STATUS_IDLE
                    and socket_quiet(connection.fileno())):
                return True
        except (OSError, ValueError, self.Database.Error):
            return False
        return super().is_usable()
