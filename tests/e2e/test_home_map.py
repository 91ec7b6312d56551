"""The home map in a real browser, with no network beyond the local server."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

from gis.models import AdminUnit
from infra.works.choices import Category, Stage
from infra.works.services import work_create, work_stage_change
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture
def hostile_work():
    call_command("load_reference", verbosity=0)
    work = work_create(user=None, code="XSS-1", name=HOSTILE_NAME, category=Category.HEALTH,
                       geometry=Point(103.36, 22.53, srid=4326), approved_year=2022, stage_date=date(2022, 8, 1))
    work_stage_change(work=work, user=None, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    return work


def _open(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_function("window.worksMapReady === true", timeout=30_000)


def test_map_shows_current_communes_offline(page, live_server, hostile_work):
    _open(page, live_server)
    expected = AdminUnit.objects.current().filter(level="commune", boundary__isnull=False).count()
    shown = page.evaluate("window.worksMapLayers.communes.getLayers().length")
    assert shown == expected > 0
    assert page.evaluate("window.worksMapLayers.centres.getLayers().length") == expected
    assert page.evaluate("window.worksMapLayers.works.getLayers().length") == 1
    assert page.outside_requests == []
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator(".legend").is_visible()
    screenshot(page, "home-map")


def test_work_name_is_shown_as_text_and_runs_nothing(page, live_server, hostile_work):
    _open(page, live_server)
    # Click the work where Leaflet drew it (Leaflet takes [lat, lon]).
    page.evaluate("() => { window.worksMap.setView([22.53, 103.36], 14, {animate: false}); }")
    x, y = page.evaluate("(() => { const p = window.worksMap.latLngToContainerPoint([22.53, 103.36]); return [p.x, p.y]; })()")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    assert HOSTILE_NAME in popup.inner_text()
    assert popup.locator("img").count() == 0
    assert page.dialogs == []
    screenshot(page, "work-popup")
