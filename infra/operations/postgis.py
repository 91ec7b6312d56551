"""PostGIS backups: pg_dump -Fc of one snapshot, restored by pg_restore into a fresh database.

The fingerprint is taken in the very snapshot pg_dump copies (an exported snapshot), so it
describes the dump exactly even while the server keeps writing. A restore goes into a staging
database in one transaction, is checked against the fingerprint and the audit chain, and only
then takes the target's name: a failed restore leaves nothing behind and the target untouched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

from infra.operations.errors import BackupRefused
from infra.operations.fingerprint import fingerprint

__all__ = ["DUMP_FILE", "connect", "database_url", "dump", "restore_into_staging", "staging_drop",
           "database_fingerprint", "staging_name", "swap_in", "target_state"]

DUMP_FILE = "database.dump"
_SUFFIX_STAGING = "_restoring"
_MAINTENANCE_DB = "postgres"


def connect(settings: dict[str, Any], *, dbname: str | None = None) -> Any:
    """Open a plain psycopg2 connection with the credentials of a Django DATABASES entry."""
    options = dict(settings.get("OPTIONS") or {})
    return psycopg2.connect(dbname=dbname or settings["NAME"], user=settings.get("USER") or None,
                            password=settings.get("PASSWORD") or None, host=settings.get("HOST") or None,
                            port=settings.get("PORT") or None, connect_timeout=10, application_name="infra-backup",
                            **options)


def database_url(settings: dict[str, Any], *, dbname: str) -> str:
    """Return a postgis:// URL for another database on the same server, with the same credentials."""
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    login = f"{user}{':' + password if password else ''}@" if user else ""
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    options = dict(settings.get("OPTIONS") or {})
    return f"postgis://{login}{settings.get('HOST') or '127.0.0.1'}{port}/{quote(dbname, safe='')}" + \
        (f"?{urlencode(options)}" if options else "")


def _tool_env(settings: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in (("PGHOST", settings.get("HOST")), ("PGPORT", settings.get("PORT")),
                       ("PGUSER", settings.get("USER")), ("PGPASSWORD", settings.get("PASSWORD"))):
        if value:
            env[key] = str(value)
    sslmode = (settings.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(f"{name} is not installed (Debian: postgresql-client); nothing was done.")
    return found


def dump(settings: dict[str, Any], *, into: Path) -> dict[str, Any]:
    """Write pg_dump -Fc of the database to into/DUMP_FILE; return the fingerprint of the same snapshot."""
    connection = connect(settings)
    try:
        connection.set_session(isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        # pg_dump reads through the snapshot this transaction holds open, so both see the same rows.
        result = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-password", f"--snapshot={snapshot}",
                                 f"--file={into / DUMP_FILE}", f"--dbname={settings['NAME']}"],
                                env=_tool_env(settings), capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupRefused(f"pg_dump failed: {result.stderr.strip()[-2000:]}")
        return fingerprint(connection, "postgis")
    finally:
        connection.rollback()
        connection.close()


@contextmanager
def _server(settings: dict[str, Any]) -> Iterator[Any]:
    """Yield a cursor on the maintenance database, in autocommit: CREATE, DROP and ALTER DATABASE need it."""
    admin = connect(settings, dbname=_MAINTENANCE_DB)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            yield cursor
    finally:
        admin.close()


def _exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def target_state(settings: dict[str, Any]) -> tuple[bool, int, int]:
    """Return whether the target database exists, how many tables it holds and how many sessions use it.

    Tables that belong to an extension (PostGIS's spatial_ref_sys) do not count.
    """
    name = settings["NAME"]
    with _server(settings) as cursor:
        if not _exists(cursor, name):
            return False, 0, 0
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        sessions = cursor.fetchone()[0]
    target = connect(settings)
    try:
        with target.cursor() as cursor:
            cursor.execute("""
                SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p')
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                  AND d.objid = c.oid AND d.deptype = 'e')""")
            tables = cursor.fetchone()[0]
    finally:
        target.close()
    return True, tables, sessions


def staging_name(target: str) -> str:
    return target[: 63 - len(_SUFFIX_STAGING)] + _SUFFIX_STAGING


def staging_drop(settings: dict[str, Any]) -> None:
    """Remove the staging database of a restore into this target, if one is left."""
    with _server(settings) as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {_quote(staging_name(settings['NAME']))} WITH (FORCE)")


def restore_into_staging(settings: dict[str, Any], *, dump_file: Path) -> dict[str, Any]:
    """Restore the dump into a fresh staging database in one transaction; return the staging settings."""
    staging = staging_name(settings["NAME"])
    staging_drop(settings)  # a leftover of a restore that was interrupted: ours by its name
    with _server(settings) as cursor:
        cursor.execute(f"CREATE DATABASE {_quote(staging)} TEMPLATE template0 ENCODING 'UTF8'")
    result = subprocess.run([_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner", "--no-password",
                             f"--dbname={staging}", str(dump_file)],
                            env=_tool_env(settings), capture_output=True, text=True)
    if result.returncode != 0:
        staging_drop(settings)
        raise BackupRefused(f"pg_restore stopped ({result.stderr.strip()[-1500:] or 'no message'}); "
                            f"its transaction was rolled back and nothing was restored.")
    return {**settings, "NAME": staging}


def database_fingerprint(settings: dict[str, Any]) -> dict[str, Any]:
    """Return the fingerprint of the database as one snapshot sees it."""
    connection = connect(settings)
    try:
        connection.set_session(isolation_level=ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        return fingerprint(connection, "postgis")
    finally:
        connection.rollback()
        connection.close()


def swap_in(settings: dict[str, Any], *, keep_as: str | None) -> None:
    """Give the staging database the target's name; the old target is renamed to keep_as, or dropped if empty."""
    target = settings["NAME"]
    with _server(settings) as cursor:
        moved = False
        try:
            if _exists(cursor, target):
                if keep_as:
                    cursor.execute(f"ALTER DATABASE {_quote(target)} RENAME TO {_quote(keep_as)}")
                    moved = True
                else:
                    cursor.execute(f"DROP DATABASE {_quote(target)}")
            cursor.execute(f"ALTER DATABASE {_quote(staging_name(target))} RENAME TO {_quote(target)}")
        except psycopg2.Error as error:
            if moved:  # put the old database back under its name before saying so
                cursor.execute(f"ALTER DATABASE {_quote(keep_as)} RENAME TO {_quote(target)}")
            raise BackupRefused(f"the restored copy could not take the name {target!r} "
                                f"({(error.pgerror or str(error)).strip()}); stop everything connected to it "
                                "(the server, psql) and run the restore again.") from None
