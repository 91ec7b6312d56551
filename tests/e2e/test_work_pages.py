"""A work's page, the printable map and the API docs in a real browser, offline."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.e2e.conftest import screenshot
from tests.infra.api.register import build_register

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def register():
    call_command("load_reference", verbosity=0)
    return build_register()


def test_work_page_draws_its_map_offline(page, live_server, register):
    page.goto(f"{live_server.url}/works/{register['R-1'].pk}/")
    page.wait_for_selector("#work-map .leaflet-interactive")
    assert page.locator("h1").inner_text().strip().startswith("Đường bản Nà Giàng")
    assert page.outside_requests == []
    screenshot(page, "work-page")


def test_printable_map_needs_nothing_from_outside(page, live_server, register):
    page.goto(f"{live_server.url}/works/map.html?commune=03549")
    page.wait_for_selector(".work-symbol")
    assert page.evaluate("() => typeof window.L") == "object"
    assert page.locator(".work-symbol").count() == 3          # the public works of Phong Thổ
    assert page.locator(".report-table tbody tr").count() == 3
    assert page.outside_requests == []
    assert page.dialogs == []
    screenshot(page, "printable-map")


def test_api_docs_page_offline(page, live_server, register):
    page.goto(f"{live_server.url}/api/docs/")
    assert page.locator("#works_list").is_visible()
    assert page.outside_requests == []
    screenshot(page, "api-docs")
