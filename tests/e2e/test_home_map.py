"""The home map in a real browser, with no network beyond the local server (tiles or GeoJSON alike)."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

from gis.models import AdminUnit
from infra.works.choices import Category, Stage
from infra.works.services import work_create, work_stage_change
from tests.e2e.conftest import click_map, open_map, screenshot
from tests.infra.api.register import PHONG_THO, SI_LO_LAU

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
WORKS = "window.worksMapFeatures('works').length"


@pytest.fixture
def hostile_work():
    call_command("load_reference", verbosity=0)
    work = work_create(user=None, code="XSS-1", name=HOSTILE_NAME, category=Category.HEALTH,
                       geometry=Point(103.36, 22.53, srid=4326), approved_year=2022, stage_date=date(2022, 8, 1))
    work_stage_change(work=work, user=None, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    return work


def test_map_shows_current_communes_offline(page, live_server, hostile_work):
    open_map(page, live_server.url + "/")
    expected = AdminUnit.objects.current().filter(level="commune", boundary__isnull=False).count()
    shown = page.evaluate("window.worksMapLayers.communes.getLayers().length")
    assert shown == expected > 0
    centres = AdminUnit.objects.current().filter(level="commune", centre__isnull=False).count()
    assert page.evaluate("window.worksMapLayers.centres.getLayers().length") == centres
    assert page.evaluate(WORKS) == 1
    assert page.outside_requests == []
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator(".map-legend").is_visible()
    assert page.locator("#map-filters").is_visible()
    screenshot(page, "home-map")


def test_work_name_is_shown_as_text_and_runs_nothing(page, live_server, hostile_work):
    open_map(page, live_server.url + "/")
    click_map(page, 103.36, 22.53, zoom=14)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    assert HOSTILE_NAME in popup.inner_text()
    assert popup.locator("img").count() == 0
    assert page.dialogs == []
    # The tooltip and the status line take the name as text too.
    assert page.locator(".leaflet-container img[src=x]").count() == 0
    page.wait_for_timeout(400)
    screenshot(page, "work-popup")


def test_layers_toggle_and_the_background_is_off_until_asked(page, live_server, register):
    open_map(page, live_server.url + "/")
    for name in ("communes", "districts", "centres", "villages", "links", "roads"):
        assert page.evaluate(f"window.worksMap.hasLayer(window.worksMapLayers.{name})"), name
    assert len(page.evaluate("window.worksMapFeatures('villages')")) == 2
    assert page.evaluate("window.worksMapLayers.links.getLayers().length") == 2
    page.uncheck('input[data-layer="villages"]')
    page.uncheck('input[data-layer="works"]')
    assert not page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.villages)")
    assert not page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.works)")
    assert page.evaluate("window.worksMapFeatures('works')") == []
    # GeoJSON works carry their line and area symbols in a second layer (tiles carry them in the tile).
    assert page.evaluate("!window.worksMapLayers.workSymbols || !window.worksMap.hasLayer(window.worksMapLayers.workSymbols)")
    screenshot(page, "map-layers-off")
    page.check('input[data-layer="villages"]')
    page.check('input[data-layer="works"]')
    assert page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.villages)")
    assert page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.works)")
    # OpenStreetMap only when switched on; with no internet its tiles simply fail.
    assert not page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.osm)")
    assert page.outside_requests == []
    page.check('input[data-layer="osm"]')
    assert page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.osm)")
    page.wait_for_timeout(300)
    assert page.outside_requests and all(u.startswith("https://tile.openstreetmap.org/") for u in page.outside_requests)
    page.uncheck('input[data-layer="osm"]')
    assert not page.evaluate("window.worksMap.hasLayer(window.worksMapLayers.osm)")


def test_a_filter_narrows_the_works_and_stays_in_the_address(page, live_server, register):
    open_map(page, live_server.url + "/")
    assert page.evaluate(WORKS) == 5
    page.check('input[name="category"][value="road"]')
    page.wait_for_function(f"window.worksMapReady === true && {WORKS} === 1")
    page.select_option("#f-commune", "03549")
    page.wait_for_function("window.worksMapReady === true && location.search.includes('commune=03549')")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"category": ["road"], "commune": ["03549"]}
    assert page.evaluate(WORKS) == 1
    assert page.locator("#print-link").is_visible()
    assert "commune=03549" in page.locator("#print-link").get_attribute("href")
    screenshot(page, "map-filtered")
    # The view is in the hash; a reload keeps filters and view.
    page.evaluate("() => { window.worksMap.setView([22.53, 103.36], 13, {animate: false}); }")
    page.wait_for_function("location.hash.startsWith('#map=13/')")
    page.reload()
    page.wait_for_function("window.worksMapReady === true")
    assert page.evaluate(WORKS) == 1
    assert page.is_checked('input[name="category"][value="road"]')
    assert page.input_value("#f-commune") == "03549"
    assert page.evaluate("window.worksMap.getZoom()") == 13
    # A former commune by code and last day; the text search too.
    page.uncheck('input[name="category"][value="road"]')
    page.select_option("#f-commune", "03562@2025-06-30")
    page.wait_for_function(f"window.worksMapReady === true && {WORKS} === 1")
    page.select_option("#f-commune", "")
    page.fill("#f-q", "trạm y tế")
    # Counted, not drawn: the match lies outside the view, where tiles are not fetched.
    page.wait_for_function("window.worksMapReady === true && location.search.includes('q=') && "
                           "document.getElementById('map-status').textContent === '1 công trình phù hợp'")
    assert page.outside_requests == []


def test_clicking_a_work_opens_its_popup_with_money_and_a_link(page, live_server, register):
    open_map(page, live_server.url + "/")
    click_map(page, *PHONG_THO)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "Trạm y tế xã Phong Thổ" in text and "A-1" in text
    assert "2.000 / 500" in text             # capital plan / disbursed, million VND, Vietnamese figures
    assert "4.103,75" in text                # approved investment
    assert "01/03/2025" in text              # last maintenance
    page.wait_for_timeout(400)               # let the popup finish fading in
    screenshot(page, "map-popup")
    popup.locator("a").click()
    page.wait_for_url(f"**/works/{register['A-1'].pk}/")
    assert "Trạm y tế xã Phong Thổ" in page.locator("h1").inner_text()
    assert page.outside_requests == []


def test_the_popup_writes_figures_with_the_page_language_s_marks(page, live_server, register):
    # "2.000 million VND" on an English page reads two million; the popup followed Vietnamese marks whatever
    # the language. It now writes them as the server does (infra/money.py).
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    try:
        open_map(page, live_server.url + "/")
        assert page.evaluate("document.documentElement.lang") == "en"
        click_map(page, *PHONG_THO)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        text = popup.inner_text()
        assert "2,000 / 500" in text and "4,103.75" in text and "2.000 / 500" not in text
        assert page.evaluate("[WorksMapKit.millions(-400), WorksMapKit.millions(400), WorksMapKit.millions(1234500000)]") \
            == ["> -0.001", "< 0.001", "1,234.5"]
        assert page.outside_requests == []
    finally:
        page.context.clear_cookies()  # the browser is shared by the tests after this one


def test_a_layer_that_fails_to_load_is_named_and_stays_said(page, live_server, hostile_work):
    # A base layer that failed was hidden without a word: the works' count overwrote the error straight away,
    # and when said at all, the layer was named by its English key ("villages").
    page.route("**/api/villages/**", lambda route: route.abort())    # GeoJSON (SpatiaLite)
    page.route("**/tiles/villages/**", lambda route: route.abort())  # vector tiles (PostGIS)
    open_map(page, live_server.url + "/")
    label = page.locator('#map-layers input[data-layer="villages"]').locator("xpath=..").inner_text().strip()
    status = page.locator("#map-status").inner_text()
    assert "công trình phù hợp" in status and label in status and "villages" not in status
    assert status.count("Không tải được lớp bản đồ") == 1
    assert page.locator("a.leaflet-control-zoom-in").get_attribute("title") == "Phóng to"  # Leaflet's own is English


def test_works_that_fail_to_load_do_not_leave_the_loading_text(page, live_server, hostile_work):
    page.route("**/api/works/**", lambda route: route.abort())
    page.goto(live_server.url + "/")
    page.wait_for_function("document.getElementById('map-status').textContent.includes('Không tải được')")
    # Over tiles (PostGIS) the works' tiles load even so: their loading does not unsay the list's failure.
    page.wait_for_function("window.worksMapReady === true")
    status = page.locator("#map-status").inner_text()
    assert "Không tải được lớp bản đồ" in status and "Đang tải" not in status


def test_a_map_of_more_works_than_it_draws_says_so_and_follows_the_view(page, live_server, register, settings,
                                                                          monkeypatch):
    # Drawn as GeoJSON (SpatiaLite, or tiles off), the map asks for at most MAP_LIMIT works: past it the
    # status says only the first are shown, and from then on the map asks for the works in its view.
    from infra.works import views

    settings.MAP_VECTOR_TILES = False
    monkeypatch.setattr(views, "MAP_LIMIT", 2)
    open_map(page, live_server.url + "/")
    assert page.evaluate(WORKS) == 2
    status = page.locator("#map-status").text_content()
    assert status == "Chỉ hiển thị 2 công trình đầu tiên: hãy phóng to bản đồ hoặc thu hẹp bộ lọc để xem các công trình còn lại."
    # Close in on one published work alone (S-1, at Sì Lờ Lầu): the works in the view, all of them, and said so.
    # At zoom 19 the view is a few hundred metres across: B-1, 411 m east of S-1, lies outside it.
    page.evaluate(f"() => {{ window.worksMap.setView([{SI_LO_LAU[1]}, {SI_LO_LAU[0]}], 19, {{animate: false}}); }}")
    page.wait_for_function(f"window.worksMapReady === true && {WORKS} === 1 && "
                           "!document.getElementById('map-status').textContent.startsWith('Chỉ hiển thị')")
    assert page.locator("#map-status").text_content() == "1 công trình phù hợp"
    assert page.outside_requests == []
