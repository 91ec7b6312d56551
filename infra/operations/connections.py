"""Settings a database connection needs once it is open."""
from __future__ import annotations

__all__ = ["on_connection_created"]


def on_connection_created(sender, connection, **kwargs) -> None:
    """Give SpatiaLite connections back the busy timeout the settings ask for.

    Loading mod_spatialite sets SQLite's busy timeout to 5 s, after Django applied OPTIONS["timeout"],
    so a writer queued behind others gave up after 5 s with "database is locked" instead of waiting
    its turn for the configured time.
    """
    if connection.vendor != "sqlite":
        return
    timeout = connection.settings_dict.get("OPTIONS", {}).get("timeout")
    if timeout is not None:
        connection.connection.execute(f"PRAGMA busy_timeout = {int(float(timeout) * 1000)}")
