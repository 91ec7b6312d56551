"""A database's fingerprint: row counts, a hash per table and the head of the audit chain.

Two databases with the same fingerprint hold the same rows. Rows are hashed in primary-key order,
as the database itself writes them out (PostgreSQL's row text, SQLite's stored values), so the
fingerprint compares a database with its own restored copy on the same engine; it is not meant to
compare a PostGIS database with a SpatiaLite one.

Works over a plain DB-API connection (psycopg2 or sqlite3) rather than Django's, because a backup
fingerprints the exact snapshot pg_dump copies, and a restore checks a database Django is not
connected to.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from django.apps import apps

__all__ = ["FORMAT", "differences", "fingerprint", "summary", "tracked_tables"]

FORMAT = 1
_BATCH = 2000
# Fixed output settings, so the same row always reads back as the same text.
_PG_SESSION = ("SET TIME ZONE 'UTC'", "SET datestyle TO ISO, YMD", "SET intervalstyle TO postgres",
               "SET extra_float_digits TO 3", "SET bytea_output TO hex")


def tracked_tables() -> list[tuple[str, str]]:
    """Return (table, primary-key column) for every table the project's models keep, sorted by table."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        tables[meta.db_table] = meta.pk.column
    return sorted(tables.items())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exists(connection: Any, engine: str, table: str) -> bool:
    cursor = connection.cursor()
    if engine == "postgis":
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [_quote(table)])
    else:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    found = bool(cursor.fetchone()[0])
    cursor.close()
    return found


def _sqlite_row(row: tuple) -> str:
    return json.dumps([value.hex() if isinstance(value, (bytes, memoryview)) else value for value in row],
                      ensure_ascii=False, separators=(",", ":"))


def _table(connection: Any, engine: str, table: str, pk: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    rows = 0
    if engine == "postgis":
        # A server-side cursor: tables of any size stream through in batches.
        cursor = connection.cursor(name="fingerprint_rows")
        cursor.itersize = _BATCH
        cursor.execute(f"SELECT t::text FROM {_quote(table)} AS t ORDER BY {_quote(pk)}")
        for (text,) in cursor:
            digest.update(text.encode("utf-8") + b"\n")
            rows += 1
    else:
        cursor = connection.cursor()
        cursor.execute(f"SELECT * FROM {_quote(table)} ORDER BY {_quote(pk)}")
        digest.update(_sqlite_row(tuple(c[0] for c in cursor.description)).encode("utf-8") + b"\n")
        while batch := cursor.fetchmany(_BATCH):
            for row in batch:
                digest.update(_sqlite_row(row).encode("utf-8") + b"\n")
                rows += 1
    cursor.close()
    return {"rows": rows, "sha256": digest.hexdigest()}


def _audit_head(connection: Any, engine: str) -> dict[str, Any] | None:
    table = apps.get_model("audit", "AuditEntry")._meta.db_table
    if not _exists(connection, engine, table):
        return None
    cursor = connection.cursor()
    cursor.execute(f"SELECT seq, hash FROM {_quote(table)} ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    cursor.close()
    return {"seq": row[0], "hash": row[1]} if row else None


def fingerprint(connection: Any, engine: str) -> dict[str, Any]:
    """Return the fingerprint of the database behind a DB-API connection ("postgis" or "spatialite").

    On PostgreSQL, call it inside the transaction whose snapshot is to be fingerprinted.
    """
    if engine == "postgis":
        cursor = connection.cursor()
        for statement in _PG_SESSION:
            cursor.execute(statement)
        cursor.close()
    tables = {table: _table(connection, engine, table, pk)
              for table, pk in tracked_tables() if _exists(connection, engine, table)}
    body = {"format": FORMAT, "engine": engine, "tables": tables, "audit_head": _audit_head(connection, engine)}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return {**body, "digest": hashlib.sha256(canonical.encode("utf-8")).hexdigest()}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Return, in words, where two fingerprints differ (empty when they are the same)."""
    found = []
    for table in sorted(set(expected["tables"]) | set(actual["tables"])):
        want, got = expected["tables"].get(table), actual["tables"].get(table)
        if want is None or got is None:
            found.append(f"{table}: {'missing' if got is None else 'not in the backup'}")
        elif want != got:
            found.append(f"{table}: {want['rows']} rows expected, {got['rows']} found"
                         + ("" if want["rows"] != got["rows"] else " (contents differ)"))
    if expected.get("audit_head") != actual.get("audit_head"):
        found.append(f"audit chain head: {expected.get('audit_head')} expected, {actual.get('audit_head')} found")
    if not found and expected.get("digest") != actual.get("digest"):
        found.append("fingerprint digest differs")
    return found


def summary(fingerprint_: dict[str, Any]) -> str:
    """Return one line: digest, tables, rows and the audit chain head."""
    rows = sum(t["rows"] for t in fingerprint_["tables"].values())
    head = fingerprint_.get("audit_head")
    chain = f"audit chain head #{head['seq']} {head['hash'][:16]}…" if head else "no audit entries"
    return f"fingerprint {fingerprint_['digest'][:16]}… ({len(fingerprint_['tables'])} tables, {rows:,} rows; {chain})"
