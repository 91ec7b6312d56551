"""Promise 9: a backup restores to the same data, and a damaged backup restores nothing. Both databases.

Fast: `manage.py db_backup` (make backup) is taken while a writer keeps saving; `manage.py db_restore`
(make restore), run as its own process like an operator would, puts it into a database that did not
exist. The restored database has the fingerprint the backup recorded (row counts, per-table hashes,
audit-chain head) and its audit chain verifies. The same backup is refused over a database that holds
data, and once truncated (its checksum no longer matches). Slow: damage the checksum cannot reveal
(the checksum recomputed after truncating, flipping a byte or editing a row) is refused by the engine
(pg_restore in one transaction, SQLite's integrity check) or by the fingerprint; nothing is left behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db import connections as all_connections

from infra.operations import postgis
from infra.operations.services import MANIFEST, BackupRefused, backup_create, backup_restore, database_fingerprint
from infra.works.models import Work
from infra.works.services import work_update
from tests.infra.api.register import build_register
from tests.reliability.conftest import FIGURES
from tests.reliability.servers import ROOT, child_env, postgis_url

pytestmark = [pytest.mark.django_db(transaction=True)]


def _base_name() -> str:
    """The name the test database was made from (pytest-django prefixes test_)."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        name = Path(name).stem
    return name.removeprefix("test_")


@pytest.fixture
def fresh_target():
    """A database that does not exist yet (a name derived from the test database's), removed afterwards."""
    pid = os.getpid()
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"]).with_name(f"{_base_name()}-restore-{pid}.sqlite3")
        target = {**connection.settings_dict, "NAME": str(path)}
        url = f"spatialite:///{path}"
    else:
        target = {**connection.settings_dict, "NAME": f"{_base_name()}_restore_{pid}"}
        url = postgis_url(connection.settings_dict, name=target["NAME"])
    _remove(target)
    yield target, url
    _remove(target)


def _remove(target: dict) -> None:
    if connection.vendor == "sqlite":
        path = Path(target["NAME"])
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return
    admin = postgis.connect(target, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        for name in (target["NAME"], postgis.staging_name(target["NAME"])):
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _target_left(target: dict) -> list[str]:
    """Return whatever a restore into the target left behind (the target itself, a staging copy)."""
    if connection.vendor == "sqlite":
        path = Path(target["NAME"])
        return sorted(p.name for p in path.parent.glob(path.name + "*"))
    admin = postgis.connect(target, dbname="postgres")
    with admin.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)",
                       [target["NAME"], postgis.staging_name(target["NAME"])])
        found = sorted(row[0] for row in cursor.fetchall())
    admin.close()
    return found


def _populate() -> Work:
    call_command("load_reference", verbosity=0)
    register = build_register()
    work = register["A-1"]
    for text in ("sửa lần 1", "sửa lần 2"):
        work = work_update(work=work, user=None, expected_version=work.version, description=text)
    return work


def _keep_writing(work_id: int, stop: threading.Event, written: list[int]) -> None:
    """Save the same work again and again until told to stop (bounded), on the thread's own connection."""
    try:
        for i in range(500):
            if stop.is_set():
                break
            current = Work.objects.get(pk=work_id)
            work_update(work=current, user=None, expected_version=current.version, description=f"trong khi sao lưu {i}")
            written.append(i)
    finally:
        all_connections.close_all()


def test_backup_under_writes_restores_into_a_fresh_database_and_nothing_else(tmp_path, fresh_target):
    # given a register with history, and a writer saving while the backup is taken
    work = _populate()
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_keep_writing, args=(work.pk, stop, written))
    writer.start()
    try:
        call_command("db_backup", into=tmp_path)
    finally:
        stop.set()
        writer.join(timeout=120)
    assert not writer.is_alive()
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    # when an operator restores it into a database that does not exist yet
    target, url = fresh_target
    restored = subprocess.run([sys.executable, "manage.py", "db_restore", str(folder)], cwd=ROOT, env=child_env(url),
                              capture_output=True, text=True, timeout=600)
    # then the restored database has exactly the backed-up rows and its audit chain holds
    assert restored.returncode == 0, restored.stderr
    assert manifest["fingerprint"]["digest"][:16] in restored.stdout
    found = database_fingerprint(target)
    assert found == manifest["fingerprint"]
    assert found["tables"][Work._meta.db_table]["rows"] == Work.objects.count()
    head = manifest["fingerprint"]["audit_head"]
    assert head and head["hash"] in restored.stdout, restored.stdout  # verify_audit's report names the same head
    FIGURES["backups round-tripped"] += 1
    FIGURES["writes during backups"] += len(written)
    # and the same backup is not restored over data (the restored database now holds some)
    with pytest.raises(BackupRefused, match="not empty") as refused:
        backup_restore(database=target, folder=folder)
    assert "REPLACE=1" in str(refused.value) and "new database" in str(refused.value)
    assert database_fingerprint(target) == found
    # nor when its file was cut short: the recorded checksum no longer matches
    _truncate(folder / manifest["file"])
    elsewhere = {**target, "NAME": target["NAME"].replace("restore", "restore2")}
    _remove(elsewhere)
    try:
        with pytest.raises(BackupRefused, match="damaged"):
            backup_restore(database=elsewhere, folder=folder)
        assert _target_left(elsewhere) == []
    finally:
        _remove(elsewhere)
    FIGURES["damaged backups refused"] += 1


def _truncate(data: Path) -> None:
    with data.open("r+b") as handle:
        handle.truncate(data.stat().st_size // 2)


def _flip_a_byte(data: Path) -> None:
    with data.open("r+b") as handle:
        handle.seek(data.stat().st_size * 2 // 3)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _alter_a_work(data: Path) -> None:
    """Change one work's name in the copied file, as someone editing the backup would (SQLite only)."""
    table = Work._meta.db_table
    altered = sqlite3.connect(data)
    altered.execute(f'UPDATE "{table}" SET name = name || \' (sửa)\' WHERE id = (SELECT min(id) FROM "{table}")')
    altered.commit()
    altered.close()


def _fix_checksum(folder: Path) -> None:
    """Record the damaged file's own checksum, so that only the database engine can notice the damage."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["sha256"] = hashlib.sha256((folder / manifest["file"]).read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _damages():
    yield "truncated, checksum recomputed", _truncate, True, None
    if connection.vendor == "postgresql":
        yield "a byte flipped, checksum recomputed", _flip_a_byte, True, None
    else:
        yield "a row altered, checksum recomputed", _alter_a_work, True, "fingerprint"


@pytest.mark.slow
def test_damage_only_the_database_engine_can_see_is_refused_and_nothing_is_restored(tmp_path, fresh_target):
    _populate()
    original = backup_create(database=connection.settings_dict, into=tmp_path / "original")
    # A backup of a database nobody writes to carries that database's own fingerprint.
    assert json.loads((original / MANIFEST).read_text(encoding="utf-8"))["fingerprint"] == \
        database_fingerprint(connection.settings_dict)
    target, _url = fresh_target
    for n, (label, damage, recompute, expected) in enumerate(_damages()):
        folder = tmp_path / f"damaged-{n}"
        folder.mkdir()
        for item in original.iterdir():
            (folder / item.name).write_bytes(item.read_bytes())
        damage(folder / json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["file"])
        if recompute:
            _fix_checksum(folder)
        with pytest.raises(BackupRefused) as refused:
            backup_restore(database=target, folder=folder)
        assert "nothing was restored" in str(refused.value).lower(), (label, str(refused.value))
        if expected:
            assert expected in str(refused.value), (label, str(refused.value))
        assert _target_left(target) == [], f"{label}: a restore was half-done: {_target_left(target)}"
        FIGURES["damaged backups refused"] += 1
