"""A confirmed import of many rows runs in the background, and a page follows it.

Inserting 5,000 works takes a minute or more (docs/reliability.md, "Imports are slow"). Inside one
request the person stares at a page that does not answer, on a slow link a proxy or the browser may
give up, and nobody can tell whether the import went through. A file of more than
`settings.IMPORT_BACKGROUND_ROWS` rows is therefore imported by a thread of the web process (one
transaction, all rows or none, as before) while the page `/imports/jobs/<token>/` shows how far it
got and, at the end, the same report as a small import's.

The job's state is a file beside the upload (`job.json` in the upload's folder, written whole and then
renamed), so that any worker process of the same machine can show it: `running` (with the rows done
and a heartbeat), `done`, `refused` (a row the database refused: nothing imported), `failed` (the
file itself, or an error), or `interrupted` when the process that ran it is gone or its heartbeat
stopped (a restart mid-way: the transaction was rolled back, nothing of it stays).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext as _

from infra.interchange.imports.services import ImportReport, works_import

__all__ = ["JOB_FILE", "STALE_SECONDS", "job_read", "job_start", "report_data"]

logger = logging.getLogger(__name__)

JOB_FILE = "job.json"
BEAT_SECONDS = 1.0  # the state is written at most this often while rows are created
STALE_SECONDS = 120  # a running job whose heartbeat is older than this was interrupted


def report_data(report: ImportReport) -> dict[str, Any]:
    """The report as the import page shows it (templates read a dict as they read the report)."""
    rows = [{"number": r.number, "code": r.code, "reasons": list(r.reasons), "accepted": r.accepted} for r in report.rows]
    return {"file": report.file, "kind": report.kind, "crs": report.crs, "created": report.created,
            "committed": report.committed, "rows": rows, "refused": [r for r in rows if not r["accepted"]]}


def _write(folder: Path, state: dict[str, Any]) -> None:
    partial = folder / f".{JOB_FILE}.{threading.get_ident()}"
    partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, folder / JOB_FILE)  # a reader sees the old state or the new one, never half of one


def job_read(folder: Path) -> dict[str, Any] | None:
    """The job's state, or None when there is none; `running` with a stopped heartbeat reads `interrupted`."""
    try:
        state = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("state") == "running" and (time.time() - state.get("beat", 0) > STALE_SECONDS
                                           or (state.get("host") == socket.gethostname() and not _alive(state.get("pid")))):
        # A process of another machine (a shared var/imports/) is judged by its heartbeat alone.
        state["state"] = "interrupted"
    return state


def _alive(pid: Any) -> bool:
    """Whether the process that runs the job is still there (this machine: uploads are its own files)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # no signal sent: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def job_start(*, user: Any, folder: Path, name: str, crs: Any, rows: int) -> bool:
    """Start importing the upload in `folder` in a thread of this process; its state is in `folder`. False when
    the upload has a job already (a confirmation sent twice): one upload is imported once."""
    now = time.time()
    base = {"user": user.pk, "name": name, "total": rows, "done": 0, "started": now, "beat": now,
            "language": translation.get_language(), "pid": os.getpid(), "host": socket.gethostname()}
    try:
        with (folder / JOB_FILE).open("x", encoding="utf-8") as claim:  # created only if absent: the claim
            claim.write(json.dumps({**base, "state": "running"}, ensure_ascii=False))
    except FileExistsError:
        return False
    thread = threading.Thread(target=_run, args=(folder, base, crs), name=f"import-{folder.name}", daemon=True)
    thread.start()
    return True


def _run(folder: Path, base: dict[str, Any], crs: Any) -> None:
    state = dict(base)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.time()
        if done < total and now - last[0] < BEAT_SECONDS:
            return
        last[0] = now
        _write(folder, {**state, "state": "running", "done": done, "total": total, "beat": now})

    final: dict[str, Any] = {**state, "state": "failed", "message": ""}
    try:
        with translation.override(base["language"]):
            final["message"] = _("The import stopped on an unexpected error; nothing was imported.")
            try:
                user = get_user_model().objects.get(pk=base["user"])
                report = works_import(user=user, path=folder / "upload", name=base["name"], crs=crs, dry_run=False,
                                      progress=progress)
                final = {**state, "state": "done" if report.committed else "refused", "done": report.created,
                         "report": report_data(report)}
            except ValidationError as error:
                final = {**state, "state": "failed", "message": " ".join(error.messages)}
            except Exception:
                logger.exception("the import in %s failed", folder)
    finally:
        (folder / "upload").unlink(missing_ok=True)
        connections.close_all()  # this thread's own connections, before the page can say the job has ended
        _write(folder, {**final, "beat": time.time()})
