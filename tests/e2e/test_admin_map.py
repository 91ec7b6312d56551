"""The admin's map widget in a real browser with no internet: the commune boundaries and villages from this server
are its base (there are no basemap tiles), and its drawing tools speak Vietnamese."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from infra.accounts.models import Role
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server):
    board = user_with_role(Role.BOARD, username="ban-ban-do")
    board.is_staff = True
    board.save()
    board.user_permissions.set(Permission.objects.all())
    client = Client()
    client.force_login(board)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def test_a_work_is_drawn_on_the_communes_with_vietnamese_tools(page, live_server, register):
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/works/work/add/")
    page.wait_for_selector('.leaflet-container[data-base="ready"]', timeout=30_000)
    # the communes (polygons) and the villages (circles) are drawn: SVG paths in the map's overlay
    assert page.locator(".leaflet-overlay-pane path").count() >= 10
    assert page.locator("a.leaflet-draw-draw-marker").get_attribute("title") == "Đặt điểm"
    assert page.locator("a.leaflet-control-zoom-in").get_attribute("title") == "Phóng to"
    assert page.locator(".admin-map-note").count() == 0
    assert page.outside_requests == [] and page.dialogs == []


def test_a_works_own_geometry_frames_its_map(page, live_server, register):
    _sign_in(page, live_server)
    work = register["A-1"]
    page.goto(f"{live_server.url}/admin/works/work/{work.pk}/change/")
    page.wait_for_selector('.leaflet-container[data-base="ready"]', timeout=30_000)
    # the map is framed on the work's point, close up, not reframed on the whole district's communes (zoom 8)
    assert page.evaluate("window.adminMaps[0].getZoom()") >= 14
    lon, lat = work.geometry.x, work.geometry.y
    assert page.evaluate(f"window.adminMaps[0].getBounds().contains([{lat}, {lon}])")
    assert page.outside_requests == []
