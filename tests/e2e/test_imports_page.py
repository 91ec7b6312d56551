"""A large import in a real browser: upload, check, confirm, then the page follows the background import to its end."""
from __future__ import annotations

import shutil

import pytest
from django.core.management import call_command
from django.test import Client

from infra.accounts.models import Role
from infra.interchange import views
from infra.works.models import Work
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = "Mã công trình,Tên công trình,Loại công trình,Năm kế hoạch,Tổng mức đầu tư (đồng),Kinh độ,Vĩ độ\n"


def test_a_large_import_is_followed_until_it_ends_without_a_script(page, live_server, settings, tmp_path):
    call_command("load_reference", verbosity=0)
    settings.IMPORT_BACKGROUND_ROWS = 3
    client = Client()
    client.force_login(user_with_role(Role.BOARD, username="ban-trinh-duyet"))
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(f"E-{n:02d},Nhà văn hóa bản {n},culture,2026,1.000.000,103.36,22.53\n"
                                     for n in range(1, 9)), encoding="utf-8")
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files('input[name="file"]', str(path))
    page.locator('form[enctype="multipart/form-data"] button[type="submit"]').click()
    page.locator('button[name="confirm"]').click()
    page.wait_for_url("**/imports/jobs/*/")
    token = page.url.rstrip("/").rsplit("/", 1)[1]
    try:
        # The page reloads itself (a meta refresh: no script) until the import has ended.
        page.wait_for_selector("text=Đã nhập 8 công trình.", timeout=60_000)
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        assert Work.objects.filter(code__startswith="E-").count() == 8
        assert page.outside_requests == [] and page.dialogs == []
    finally:
        shutil.rmtree(views.UPLOADS / token, ignore_errors=True)
