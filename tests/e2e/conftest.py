"""A real headless Chromium (Debian's) driven by Playwright, with the network cut off."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

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
