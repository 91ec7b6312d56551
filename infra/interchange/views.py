"""Export and import pages. Thin: ask the policy, parse, call one service, render or stream."""
from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from infra.accounts.pages import page_refusal_for
from infra.accounts.policy import Action, can
from infra.interchange.crs import ALLOWED_CRS
from infra.interchange.exports import FORMATS, export_write
from infra.interchange.filters import filters_parse
from infra.interchange.imports.jobs import JOB_FILE, job_read, job_start
from infra.interchange.imports.services import works_import
from infra.interchange.imports.template import template_xlsx
from infra.interchange.safety import MAX_UPLOAD_BYTES
from infra.works.choices import Category, Stage

UPLOADS = Path(settings.MEDIA_ROOT).parent / "imports"
_SESSION_KEY = "interchange_import"


@require_GET
def exports_page(request: HttpRequest) -> HttpResponse:
    """The filter form and a link per format, carrying the filters."""
    refused = page_refusal_for(request, Action.EXPORT)
    if refused:
        return refused
    errors = {}
    try:
        filters_parse(request.GET)
    except ValidationError as error:
        errors = error.message_dict
    query = request.GET.urlencode()
    named = {"oc4ids": "exports:oc4ids", "audit-bundle": "exports:audit-bundle"}
    links = [(f, (reverse(named[f.name]) if f.name in named else reverse("exports:download", args=[f.name]))
              + (f"?{query}" if query else ""))
             for f in FORMATS.values() if can(request.user, f.action)]
    return render(request, "interchange/exports.html", {
        "links": links, "errors": errors, "categories": Category.choices, "stages": Stage.choices,
        "chosen_categories": request.GET.getlist("category"), "chosen_stages": request.GET.getlist("stage"),
        "commune": request.GET.get("commune", "")[:40], "year": request.GET.get("year", "")[:4],
    }, status=400 if errors else 200)


@require_GET
def export_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """Stream one export from a temporary file (memory does not grow with the number of works)."""
    export = FORMATS.get(fmt.removesuffix(".json").removesuffix(".zip"))
    if export is None:
        raise Http404
    refused = page_refusal_for(request, export.action)
    if refused:
        return refused
    try:
        filters = filters_parse(request.GET)
    except ValidationError as error:
        lines = [message for messages in error.message_dict.values() for message in messages]
        return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
    out = tempfile.TemporaryFile(prefix="export-")
    try:
        export_write(fmt=export.name, out=out, user=request.user, filters=filters, base_url=request.build_absolute_uri("/"))
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=export.filename, content_type=export.content_type)


@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    refused = page_refusal_for(request, Action.WORK_CREATE)
    if refused:
        return refused
    return HttpResponse(template_xlsx(), content_type=FORMATS["xlsx"].content_type,
                        headers={"Content-Disposition": 'attachment; filename="works-template.xlsx"'})


def _context(**extra):
    return {"crs_choices": [(code, str(label)) for code, label in ALLOWED_CRS.items()], "max_mb": MAX_UPLOAD_BYTES // 2**20,
            **extra}


def _sweep() -> None:
    """Remove uploads nobody confirmed within a day."""
    if not UPLOADS.exists():
        return
    cutoff = time.time() - 24 * 3600
    for folder in UPLOADS.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _forget(request: HttpRequest) -> None:
    pending = request.session.pop(_SESSION_KEY, None)
    if pending:
        shutil.rmtree(UPLOADS / pending["token"], ignore_errors=True)


@require_http_methods(["GET", "POST"])
def imports_page(request: HttpRequest) -> HttpResponse:
    """Upload → preview (every row: accepted or why not) → confirm (all rows or none)."""
    refused = page_refusal_for(request, Action.WORK_CREATE)
    if refused:
        return refused
    if request.method == "GET":
        return render(request, "interchange/imports.html", _context())
    if request.POST.get("confirm"):
        return _confirm(request)
    _forget(request)
    _sweep()
    upload = request.FILES.get("file")
    crs = request.POST.get("crs") or None
    if upload is None:
        return render(request, "interchange/imports.html", _context(error=_no_file()), status=400)
    if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
        return render(request, "interchange/imports.html", _context(error=_too_big()), status=400)
    token = uuid.uuid4().hex
    folder = UPLOADS / token
    folder.mkdir(parents=True)
    # Stored under our own name; the person's file name is only shown and used for its extension.
    path = folder / "upload"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        report = works_import(user=request.user, path=path, name=upload.name or "", crs=crs, dry_run=True)
    except ValidationError as error:
        shutil.rmtree(folder, ignore_errors=True)
        return render(request, "interchange/imports.html", _context(error=" ".join(error.messages)), status=400)
    if report.ok:
        request.session[_SESSION_KEY] = {"token": token, "name": upload.name, "crs": crs, "rows": len(report.rows)}
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return render(request, "interchange/imports.html", _context(report=report, preview=True))


def _confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(_SESSION_KEY)
    if not pending:
        return render(request, "interchange/imports.html", _context(error=_expired()), status=400)
    path = UPLOADS / pending["token"] / "upload"
    if not path.exists() and not (UPLOADS / pending["token"] / JOB_FILE).exists():
        _forget(request)  # removed meanwhile (uploads nobody confirmed within a day are swept)
        return render(request, "interchange/imports.html", _context(error=_expired()), status=400)
    if pending.get("rows", 0) > settings.IMPORT_BACKGROUND_ROWS:
        # Many rows: imported by a thread, followed on its own page (imports/jobs.py); the upload stays for it.
        # Sent twice, the confirmation starts one job, and both go to its page.
        request.session.pop(_SESSION_KEY, None)
        job_start(user=request.user, folder=UPLOADS / pending["token"], name=pending["name"], crs=pending["crs"],
                  rows=pending["rows"])
        return redirect("imports:job", token=pending["token"])
    try:
        report = works_import(user=request.user, path=path, name=pending["name"], crs=pending["crs"], dry_run=False)
    except ValidationError as error:
        return render(request, "interchange/imports.html", _context(error=" ".join(error.messages)), status=400)
    finally:
        _forget(request)
    return render(request, "interchange/imports.html", _context(report=report, done=True),
                  status=200 if report.committed else 400)


@require_GET
def import_job(request: HttpRequest, token: str) -> HttpResponse:
    """How far a background import got (the page reloads itself until it ends), then its report. Only the
    person who started it sees it."""
    refused = page_refusal_for(request, Action.WORK_CREATE)
    if refused:
        return refused
    if not _TOKEN.fullmatch(token):
        raise Http404
    job = job_read(UPLOADS / token)
    if job is None or job.get("user") != request.user.pk:
        raise Http404
    ended = job["state"] != "running"
    return render(request, "interchange/imports.html", _context(
        job=job, report=job.get("report"), done=ended, refresh=not ended,
        error=job.get("message") or (_interrupted() if job["state"] == "interrupted" else None)))


_TOKEN = re.compile(r"[0-9a-f]{32}")


def _interrupted() -> str:
    return _("The import stopped before it ended (the server restarted): nothing of it was imported. Check the "
             "file again and import it once more.")


def _no_file() -> str:
    return _("Choose a file to import.")


def _too_big() -> str:
    return _("The file is larger than %(limit)d MB.") % {"limit": MAX_UPLOAD_BYTES // 2**20}


def _expired() -> str:
    return _("Nothing is waiting to be imported; upload the file again.")
