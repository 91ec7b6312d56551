"""Which database this request's reads go to: the primary (Django's "default") unless the request was handed
to a read replica (infra.replica). The ORM follows it through the database router; the statements this
package writes itself (layer pages, features, tiles) take `reading_connection()` instead of Django's
default `connection`.

A write anywhere in the request sends its later reads back to the primary (`reading_stops`), so that
what a request has written, it reads back.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

__all__ = ["reading_alias", "reading_connection", "reading_from", "reading_stops"]

_ALIAS: ContextVar[str] = ContextVar("reading_alias", default=DEFAULT_DB_ALIAS)


def reading_alias() -> str:
    return _ALIAS.get()


def reading_connection():
    """Django's connection to the database this request reads from."""
    return connections[_ALIAS.get()]


@contextmanager
def reading_from(alias: str) -> Iterator[None]:
    token = _ALIAS.set(alias)
    try:
        yield
    finally:
        _ALIAS.reset(token)


def reading_stops() -> None:
    """Read from the primary for the rest of the request (something was written)."""
    _ALIAS.set(DEFAULT_DB_ALIAS)
