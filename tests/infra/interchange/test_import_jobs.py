"""A confirmed import of many rows runs in the background, and its page follows it to the same report."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from infra.accounts.models import Role
from infra.interchange import views
from infra.interchange.imports.jobs import JOB_FILE, STALE_SECONDS, job_read
from infra.works.models import Work
from tests.factories import user_with_role

# The import runs in a thread with its own database connection: it sees only what is committed.
pytestmark = [pytest.mark.django_db(transaction=True)]

HEADER = "Mã công trình,Tên công trình,Loại công trình,Năm kế hoạch,Tổng mức đầu tư (đồng),Kinh độ,Vĩ độ\n"


def _rows(count: int) -> str:
    return "".join(f"J-{n:03d},Trạm y tế bản {n},health,2026,1.000.000,103.36,22.53\n" for n in range(1, count + 1))


def _preview(client, tmp_path, body: str) -> str:
    """Upload a CSV of `body` rows and return the preview page (the pending import is in the session)."""
    path = tmp_path / "many.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    with path.open("rb") as handle:
        return client.post("/imports/", {"file": handle}).content.decode()


def _job_page(client, url: str, *, seconds: float = 60) -> str:
    """The job's page once the import has ended (the page stops reloading itself)."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        if 'http-equiv="refresh"' not in page:
            return page
        assert time.monotonic() < deadline, "the import did not end"
        time.sleep(0.2)


def test_a_large_import_runs_in_the_background_and_its_page_follows_it(client, reference, settings, tmp_path, request):
    settings.IMPORT_BACKGROUND_ROWS = 5
    board = user_with_role(Role.BOARD, username="ban-nhap")
    client.force_login(board)
    assert 'name="confirm"' in _preview(client, tmp_path, _rows(12))
    confirm = client.post("/imports/", {"confirm": "1"})
    assert confirm.status_code == 302 and "/imports/jobs/" in confirm["Location"]
    url = confirm["Location"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    request.addfinalizer(lambda: shutil.rmtree(views.UPLOADS / token, ignore_errors=True))
    page = _job_page(client, url)
    assert "Đã nhập 12 công trình." in page and "J-012" in page  # the same report as a small import's
    assert Work.objects.filter(code__startswith="J-").count() == 12
    assert not (views.UPLOADS / token / "upload").exists(), "the upload is removed once imported"
    assert job_read(views.UPLOADS / token)["state"] == "done"
    # Only who started it sees it; a token that is not one is not looked up.
    client.force_login(user_with_role(Role.BOARD, username="ban-khac"))
    assert client.get(url).status_code == 404
    assert client.get("/imports/jobs/..%2F..%2Fetc/").status_code == 404
    # The same confirmation again finds nothing waiting: the file is not imported twice.
    client.force_login(board)
    again = client.post("/imports/", {"confirm": "1"})
    assert again.status_code == 400 and Work.objects.filter(code__startswith="J-").count() == 12


def test_a_small_import_is_still_imported_within_the_request(client, reference, settings, tmp_path):
    settings.IMPORT_BACKGROUND_ROWS = 5
    client.force_login(user_with_role(Role.BOARD, username="ban-nho"))
    _preview(client, tmp_path, _rows(3))
    done = client.post("/imports/", {"confirm": "1"})
    assert done.status_code == 200 and Work.objects.filter(code__startswith="J-").count() == 3


def test_a_running_job_shows_how_far_it_got_and_one_whose_heartbeat_stopped_says_nothing_was_imported(client, reference):
    board = user_with_role(Role.BOARD, username="ban-theo-doi")
    client.force_login(board)
    token = "0123456789abcdef0123456789abcdef"
    folder = views.UPLOADS / token
    folder.mkdir(parents=True, exist_ok=True)
    try:
        state = {"state": "running", "user": board.pk, "name": "many.csv", "done": 1234, "total": 5000,
                 "started": time.time(), "beat": time.time(), "language": "vi", "pid": os.getpid(),
                 "host": socket.gethostname()}
        (folder / JOB_FILE).write_text(json.dumps(state), encoding="utf-8")
        page = client.get(f"/imports/jobs/{token}/").content.decode()
        assert 'http-equiv="refresh"' in page and 'value="1234"' in page and "1234 trên 5000 dòng" in page
        (folder / JOB_FILE).write_text(json.dumps({**state, "beat": time.time() - STALE_SECONDS - 1}), encoding="utf-8")
        page = client.get(f"/imports/jobs/{token}/").content.decode()
        assert 'http-equiv="refresh"' not in page and "chưa dòng nào được nhập" in page
        # A restart: the process that ran it is gone, whatever its last heartbeat said.
        gone = subprocess.Popen(["true"])
        gone.wait()  # reaped: no process has its id now
        (folder / JOB_FILE).write_text(json.dumps({**state, "pid": gone.pid}), encoding="utf-8")
        assert job_read(folder)["state"] == "interrupted"
        # A job of another machine sharing var/imports/: its process is not ours to look for; the heartbeat decides.
        (folder / JOB_FILE).write_text(json.dumps({**state, "pid": gone.pid, "host": "another-machine"}), encoding="utf-8")
        assert job_read(folder)["state"] == "running"
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


def test_a_background_import_that_fails_says_why_and_imports_nothing(client, reference, settings, tmp_path, request):
    settings.IMPORT_BACKGROUND_ROWS = 5
    client.force_login(user_with_role(Role.BOARD, username="ban-loi"))
    _preview(client, tmp_path, _rows(8))
    token = client.session["interchange_import"]["token"]
    request.addfinalizer(lambda: shutil.rmtree(views.UPLOADS / token, ignore_errors=True))
    # The file changed between the check and the confirmation (here: emptied): the import refuses it.
    (views.UPLOADS / token / "upload").write_text(HEADER, encoding="utf-8")
    url = client.post("/imports/", {"confirm": "1"})["Location"]
    page = _job_page(client, url)
    assert 'role="alert"' in page and job_read(views.UPLOADS / token)["state"] == "failed"
    assert not Work.objects.filter(code__startswith="J-").exists()


def test_a_confirmation_sent_twice_imports_once_and_one_swept_meanwhile_is_said_expired(client, reference, settings,
                                                                                         tmp_path, request):
    from infra.interchange.imports.jobs import job_start

    settings.IMPORT_BACKGROUND_ROWS = 5
    board = user_with_role(Role.BOARD, username="ban-hai-lan")
    client.force_login(board)
    _preview(client, tmp_path, _rows(8))
    token = client.session["interchange_import"]["token"]
    folder = views.UPLOADS / token
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    assert job_start(user=board, folder=folder, name="many.csv", crs=None, rows=8)
    assert not job_start(user=board, folder=folder, name="many.csv", crs=None, rows=8), "a second job on one upload"
    # The page's own confirmation, sent meanwhile, goes to the same job.
    assert client.post("/imports/", {"confirm": "1"})["Location"].endswith(f"/imports/jobs/{token}/")
    page = _job_page(client, f"/imports/jobs/{token}/")
    assert "Đã nhập 8 công trình." in page and Work.objects.filter(code__startswith="J-").count() == 8
    # An upload removed before its confirmation (swept after a day) is said to be gone: no error page.
    _preview(client, tmp_path, _rows(8).replace("J-", "K-"))
    shutil.rmtree(views.UPLOADS / client.session["interchange_import"]["token"])
    gone = client.post("/imports/", {"confirm": "1"})
    assert gone.status_code == 400 and "tải tệp lên lại" in gone.content.decode().lower()
    assert not Work.objects.filter(code__startswith="K-").exists()
