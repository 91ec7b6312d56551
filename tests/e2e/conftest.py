"""A real headless Chromium (Debian's) driven by Playwright, with the network cut off."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make around
# it are still synchronous, so Django's async-safety guard would refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("PLAYWRIGHT_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}; install Debian's chromium (scripts/setup.sh test does).")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True,
            args=CHROMIUM_FLAGS, locale="vi-VN", viewport={"width": 1280, "height": 860},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser, live_server):
    """A page that may reach the live server only: anything else is refused and remembered."""
    page = browser.new_page()
    page.outside_requests = []
    page.dialogs = []
    server = urlsplit(live_server.url).netloc

    def only_local(route):
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            page.outside_requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    page.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-{os.environ.get('DATABASE_URL', 'default').split(':', 1)[0]}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def register():
    """The API tests' register (five published works, two proposed) and two villages."""
    from gis.models import AdminUnit, Village
    from tests.infra.api.register import build_register

    call_command("load_reference", verbosity=0)
    built = build_register()
    phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    for code, lon, lat, people in (("V-1", 103.30, 22.55, 900), ("V-2", 103.40, 22.51, 200)):
        Village.objects.create(code=code, name=f"Bản {code}", commune=phong_tho, location=Point(lon, lat, srid=4326),
                               population=people, households=people // 5, poor_households=people // 20, is_demo=True)
    return built


def open_map(page, url):
    page.goto(url)
    page.wait_for_function("window.worksMapReady === true", timeout=30_000)


def map_point(page, lon: float, lat: float, zoom: int = 15) -> tuple[float, float]:
    """Show a place at a zoom, wait for what is drawn there (GeoJSON or tiles), and return it in page pixels."""
    # Leaflet takes [lat, lon].
    page.evaluate(f"() => {{ window.worksMap.setView([{lat}, {lon}], {zoom}, {{animate: false}}); }}")
    page.wait_for_function("window.worksMapReady === true")
    x, y = page.evaluate(f"(() => {{ const p = window.worksMap.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    box = page.locator("#map").bounding_box()
    return box["x"] + x, box["y"] + y


def click_map(page, lon: float, lat: float, zoom: int = 15):
    page.mouse.click(*map_point(page, lon, lat, zoom))
