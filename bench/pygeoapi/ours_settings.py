"""Our app's settings as bench/ogc.py serves it beside pygeoapi: the project's own, with one named connection.

The database connection is kept for the whole run (CONN_MAX_AGE None instead of 60 s) and carries an
application name, so the benchmark can find its PostgreSQL backend and read the CPU it spends, as it
does for pygeoapi's (SQLAlchemy keeps its pooled connection open and names it "pygeoapi"). Reconnecting
once a minute costs ~12 ms a minute, nothing a request would see.
"""
from infra.settings import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = None  # noqa: F405
DATABASES["default"]["OPTIONS"]["application_name"] = "bench-ours"  # noqa: F405
