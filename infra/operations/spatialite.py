"""SpatiaLite backups: a copy through SQLite's online backup API, checked with PRAGMA integrity_check.

The backup API copies the whole file in one step under a read lock, so the copy is one consistent
state of the database even while the server writes (writers wait for it, within their busy
timeout). A restore copies the backup next to the target, checks it, and only then moves it into
place with an atomic rename.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from infra.operations.errors import BackupRefused
from infra.operations.fingerprint import fingerprint

__all__ = ["DB_FILE", "copy", "integrity", "restore_into_staging", "file_fingerprint", "staging_path", "swap_in",
           "target_state"]

DB_FILE = "database.sqlite3"
_BUSY_TIMEOUT_S = 60


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)


def integrity(path: Path) -> str:
    """Return "ok" when SQLite finds the file whole, else what it found."""
    try:
        connection = _open_read_only(path)
        try:
            found = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return str(error)
    return "ok" if found == ["ok"] else "; ".join(found[:5])


def _fingerprint(path: Path) -> dict[str, Any]:
    connection = _open_read_only(path)
    connection.isolation_level = None  # transactions by hand: one read transaction over every table
    try:
        connection.execute("BEGIN")
        return fingerprint(connection, "spatialite")
    finally:
        connection.close()


def _backup(source: Path, destination: Path) -> None:
    """Copy source to destination with the online backup API (the whole file in one step)."""
    try:
        reader = _open_read_only(source)
        try:
            writer = sqlite3.connect(destination)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.DatabaseError as error:
        destination.unlink(missing_ok=True)
        raise BackupRefused(f"{source} cannot be copied as an SQLite database ({error}).") from None


def copy(source: Path, *, into: Path) -> dict[str, Any]:
    """Copy the database to into/DB_FILE, check the copy; return the copy's fingerprint."""
    if not source.is_file():
        raise BackupRefused(f"{source} does not exist; there is nothing to back up.")
    target = into / DB_FILE
    _backup(source, target)
    verdict = integrity(target)
    if verdict != "ok":
        raise BackupRefused(f"the copy of {source} fails SQLite's integrity check ({verdict}); no backup was kept.")
    return _fingerprint(target)


def target_state(path: Path) -> tuple[bool, int, int]:
    """Return whether the target file exists, how many tables it holds, and 1 if it looks in use."""
    if not path.exists() or path.stat().st_size == 0:
        return path.exists(), 0, 0
    in_use = int(any(path.with_name(path.name + suffix).exists() for suffix in ("-wal", "-journal")))
    try:
        connection = _open_read_only(path)
        try:
            tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        tables = -1  # not a database at all: never overwritten without being told
    return True, tables, in_use


def staging_path(target: Path) -> Path:
    return target.with_name(target.name + ".restoring")


def restore_into_staging(target: Path, *, backup_file: Path) -> Path:
    """Copy the backup next to the target and check it; return the checked copy's path."""
    staging = staging_path(target)
    staging.unlink(missing_ok=True)  # a leftover of a restore that was interrupted: ours by its name
    try:
        _backup(backup_file, staging)
    except BackupRefused as error:
        raise BackupRefused(f"{error} Nothing was restored.") from None
    verdict = integrity(staging)
    if verdict != "ok":
        staging.unlink(missing_ok=True)
        raise BackupRefused(f"the backup fails SQLite's integrity check ({verdict}); nothing was restored.")
    return staging


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Return the fingerprint of the SQLite database in this file."""
    return _fingerprint(path)


def swap_in(target: Path, *, keep_as: Path | None) -> None:
    """Move the checked copy into place (atomic rename); the old file is kept as keep_as, or removed if empty."""
    if target.exists():
        if keep_as:
            target.replace(keep_as)
        else:
            target.unlink()
    staging_path(target).replace(target)
