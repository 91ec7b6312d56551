"""Back up the database into a folder with a manifest; restore a backup into a fresh database.

A backup folder holds the database file (pg_dump -Fc, or an SQLite copy) and backup.json: the
file's SHA-256 and the database's fingerprint (row counts, per-table hashes, audit-chain head).
The folder is written under a temporary name and renamed when complete, so a folder without
".partial" is a whole backup.

A restore refuses a backup whose file does not match its checksum, and a target that already
holds tables unless told to replace it. It restores into a staging copy, checks the copy's
fingerprint against the manifest and re-verifies the audit chain there, and only then moves it
into place — so a refused or failed restore leaves the target as it was.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from django.conf import settings

from infra.operations import postgis, spatialite
from infra.operations.errors import BackupRefused
from infra.operations.fingerprint import FORMAT, differences

__all__ = ["MANIFEST", "BackupRefused", "Restored", "backup_create", "backup_restore", "database_fingerprint", "engine_of"]

MANIFEST = "backup.json"
_CHUNK = 1 << 20


def engine_of(database: dict[str, Any]) -> str:
    """Return "postgis" or "spatialite" for a Django DATABASES entry."""
    return "postgis" if database["ENGINE"].endswith("postgis") else "spatialite"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def database_fingerprint(database: dict[str, Any]) -> dict[str, Any]:
    """Return the fingerprint of the database as it is now."""
    if engine_of(database) == "spatialite":
        return spatialite.file_fingerprint(Path(database["NAME"]))
    return postgis.database_fingerprint(database)


def backup_create(*, database: dict[str, Any], into: Path) -> Path:
    """Write a backup of the database into a new folder under `into`; return the folder."""
    engine = engine_of(database)
    label = Path(database["NAME"]).stem if engine == "spatialite" else database["NAME"]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    into.mkdir(parents=True, exist_ok=True)
    folder = into / f"{label}-{stamp}"
    for n in range(2, 100):  # two backups within a second get their own folders
        if not folder.exists() and not folder.with_name(folder.name + ".partial").exists():
            break
        folder = into / f"{label}-{stamp}-{n}"
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(mode=0o700)  # the data includes personal details: owner only
    try:
        if engine == "spatialite":
            printed = spatialite.copy(Path(database["NAME"]), into=partial)
            data = partial / spatialite.DB_FILE
        else:
            printed = postgis.dump(database, into=partial)
            data = partial / postgis.DUMP_FILE
        data.chmod(0o600)
        manifest = {"format": FORMAT, "engine": engine, "database": label,
                    "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "file": data.name, "bytes": data.stat().st_size, "sha256": _sha256(data), "fingerprint": printed}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (partial / MANIFEST).chmod(0o600)
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder


def _manifest(folder: Path, engine: str) -> tuple[dict[str, Any], Path]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupRefused(f"{folder} is not a backup folder ({MANIFEST} is missing); nothing was restored.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        data = folder / Path(manifest["file"]).name
        expected_sha, expected_engine = manifest["sha256"], manifest["engine"]
        manifest["fingerprint"]["digest"]
    except (ValueError, KeyError, TypeError):
        raise BackupRefused(f"{path} cannot be read; nothing was restored.") from None
    if expected_engine != engine:
        raise BackupRefused(f"this is a backup of a {expected_engine} database but DATABASE_URL points at {engine}; "
                            "nothing was restored.")
    if not data.is_file():
        raise BackupRefused(f"{data} is missing; nothing was restored.")
    if _sha256(data) != expected_sha:
        raise BackupRefused(f"{data} is damaged: its SHA-256 differs from the one recorded when the backup was made "
                            "(truncated or altered); nothing was restored. Use another backup.")
    return manifest, data


def _verify_chain(url: str) -> str:
    """Re-verify the audit chain of another database with manage.py verify_audit; return its report."""
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "verify_audit"],
                            env=env, capture_output=True, text=True, timeout=3600, cwd=settings.BASE_DIR)
    if result.returncode != 0:
        raise BackupRefused(f"the restored copy fails the audit check ({(result.stderr or result.stdout).strip()[-1000:]}); "
                            "nothing was restored.")
    return result.stdout.strip()


@dataclass(frozen=True)
class Restored:
    fingerprint: dict[str, Any]
    audit: str
    kept_as: str | None


def backup_restore(*, database: dict[str, Any], folder: Path, replace: bool = False) -> Restored:
    """Restore the backup in `folder` into the database; raise BackupRefused (target untouched) if it cannot."""
    engine = engine_of(database)
    manifest, data = _manifest(folder, engine)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    if engine == "spatialite":
        target = Path(database["NAME"])
        _present, tables, busy = spatialite.target_state(target)
        keep_as = target.with_name(f"{target.name}.before-restore-{stamp}") if tables else None
        where = str(target)
    else:
        _present, tables, busy = postgis.target_state(database)
        keep_as = f"{database['NAME'][:33]}_before_restore_{stamp}" if tables else None  # 63 characters at most
        where = f"database {database['NAME']!r}"
    if tables and not replace:
        raise BackupRefused(
            f"{where} is not empty ({tables if tables > 0 else 'unreadable'} tables); restore never overwrites data "
            "unless told. Restore into a new database instead (point DATABASE_URL at a name that does not exist yet), "
            "or stop the server and run again with REPLACE=1 (make) / --replace: the current data is then kept as "
            f"{keep_as}.")
    if busy:
        raise BackupRefused(f"{where} is in use ({busy} open connection(s) or an unfinished transaction); "
                            "stop the server and run the restore again. Nothing was restored.")
    if engine == "spatialite":
        staging = spatialite.restore_into_staging(target, backup_file=data)
        discard = lambda: staging.unlink(missing_ok=True)  # noqa: E731
        url = f"spatialite:///{staging.resolve()}"
    else:
        staging_db = postgis.restore_into_staging(database, dump_file=data)
        discard = lambda: postgis.staging_drop(database)  # noqa: E731
        url = postgis.database_url(database, dbname=staging_db["NAME"])
    try:
        if engine == "spatialite":
            found = spatialite.file_fingerprint(staging)
        else:
            found = postgis.database_fingerprint(staging_db)
        problems = differences(manifest["fingerprint"], found)
        if problems:
            raise BackupRefused("the restored copy does not match the backup's fingerprint (" + "; ".join(problems[:10])
                                + "); nothing was restored.")
        audit = _verify_chain(url)
        if engine == "spatialite":
            spatialite.swap_in(target, keep_as=keep_as)
        else:
            postgis.swap_in(database, keep_as=keep_as)
    except BaseException:
        discard()
        raise
    return Restored(fingerprint=found, audit=audit, kept_as=str(keep_as) if keep_as else None)
