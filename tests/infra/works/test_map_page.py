"""The map page's filters and legend, and the printable map (view and command)."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.db import connection

from gis.models import AdminUnit
from infra.accounts.models import Role
from infra.works.choices import Category, Stage
from infra.works.services import work_create, work_stage_change
from tests.factories import user_with_role
from tests.infra.api.register import PHONG_THO, build_register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HOSTILE = "<img src=x onerror=alert(1)>`${alert(2)}`"


@pytest.fixture
def register(reference):
    return build_register()


def _config(page: str) -> dict:
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_map_page_offers_every_filter_and_a_legend(client, register):
    page = client.get("/").content.decode()
    assert 'name="q"' in page
    assert 'value="03549"' in page                       # today's communes
    assert 'value="03562@2025-06-30"' in page            # and the former ones, by code and last day
    assert 'value="2023"' in page and 'value="local"' in page
    assert page.count('name="category"') == len(Category) and page.count('name="stage"') == len(Stage)
    assert page.count("<polygon") >= len(Category)       # a symbol per category, drawn locally
    config = _config(page)
    assert set(config["categories"]) == set(Category.values)
    assert len({c["shape"] for c in config["categories"].values()}) == len(Category)   # all distinct
    assert len({s["colour"] for s in config["stages"].values()}) == len(Stage)
    assert set(config["linkStyles"]) == {"hardened", "unhardened", "none", "unknown"}
    assert config["urls"]["works"] == "/api/works/"
    for marker in ('src="http', 'href="http', 'src="//', 'href="//'):
        assert marker not in page


def test_filters_in_the_address_are_selected_on_the_page(client, register):
    page = client.get("/?category=road&stage=approved,designed&commune=03562@2025-06-30&year=2023&q=%3Cb%3E").content.decode()
    assert re.search(r'value="road" checked', page)
    assert re.search(r'value="approved" checked', page) and re.search(r'value="designed" checked', page)
    assert not re.search(r'value="school" checked', page)
    assert 'value="03562@2025-06-30" data-area="03562" selected' in page
    assert 'value="2023" selected' in page
    assert 'value="&lt;b&gt;"' in page


def test_years_offered_are_those_of_works_the_person_may_see(client, register):
    page = client.get("/").content.decode()
    assert re.findall(r'<option value="(20\d\d)"', page) == ["2024", "2023", "2022"]


def test_printable_map_is_self_contained(client, register):
    response = client.get("/works/map.html?commune=03549")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert not re.search(r'<script[^>]+src=', html) and not re.search(r'<link[^>]+href=["\']?https?:', html)
    assert "cdn." not in html and "tile.openstreetmap" not in html
    assert "L.map(" in html or "L.map (" in html          # Leaflet is inlined and used
    for code in ("A-1", "Q-1", "R-1"):
        assert f"<td>{code}</td>" in html
    assert "P-1" not in html and "S-1" not in html        # not published / another commune
    assert "Nhà văn hóa&#x27;; DROP TABLE works_work; --" in html


def test_printable_map_of_a_former_commune(client, register):
    html = client.get("/works/map.html?commune=03562@2025-06-30").content.decode()
    assert "<td>S-1</td>" in html and "<td>B-1</td>" not in html
    assert "Vàng Ma Chải" in html


def test_printable_map_escapes_hostile_names(client, reference):
    work = work_create(user=None, code="XSS-1", name=HOSTILE, category=Category.HEALTH, geometry=Point(*PHONG_THO, srid=4326),
                       approved_year=2022, stage_date=date(2022, 8, 1))
    work_stage_change(work=work, user=None, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    html = client.get("/works/map.html?commune=03549").content.decode()
    assert "<img src=x" not in html
    assert "<td>&lt;img src=x onerror=alert(1)&gt;`${alert(2)}`</td>" in html   # plain text in a table cell
    scripts = "".join(re.findall(r"<script[^>]*>(.*?)</script>", html, re.S))
    assert "alert(" not in scripts                    # and nowhere in any script


@pytest.mark.parametrize("query", ["", "?commune=99999", "?commune=03549&category=spa", "?commune=03549&bbox=1,2,3,4"])
def test_printable_map_bad_input_is_a_400_page(client, reference, query):
    response = client.get("/works/map.html" + query)
    assert response.status_code == 400
    assert "commune" in response.content.decode() or "category" in response.content.decode() \
        or "Unknown parameter" in response.content.decode()


def test_printable_map_errors_name_no_internal_keys(client, reference):
    # A refusal that belongs to no one parameter was shown as "non_field_errors: …".
    page = client.get("/works/map.html?commune=03549&bbox=1").content.decode()
    assert "non_field_errors" not in page and "__all__" not in page


def test_print_map_command_writes_the_file(register, tmp_path):
    out = tmp_path / "map.html"
    call_command("print_map", str(out), "--commune", "03549", verbosity=0)
    html = out.read_text(encoding="utf-8")
    assert "<td>A-1</td>" in html and "<td>P-1</td>" not in html


def test_print_map_command_as_a_signed_in_person(register, tmp_path):
    phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    user_with_role(Role.COMMUNE_OFFICER, username="can-bo-xa", communes=[phong_tho])
    out = tmp_path / "map.html"
    call_command("print_map", str(out), "--commune", "03549", "--user", "can-bo-xa", verbosity=0)
    assert "<td>P-1</td>" in out.read_text(encoding="utf-8")


def test_print_map_command_refuses_bad_input(register, tmp_path):
    with pytest.raises(CommandError, match="12345"):
        call_command("print_map", str(tmp_path / "x.html"), "--commune", "12345")
    with pytest.raises(CommandError):
        call_command("print_map", str(tmp_path / "x.html"), "--commune", "03549", "--user", "nobody")
    assert not (tmp_path / "x.html").exists()


def test_map_draws_large_layers_from_tiles_on_postgis_only(client, register, settings):
    config = _config(client.get("/").content.decode())
    if connection.vendor == "postgresql":
        assert config["tiles"] == {layer: f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt" for layer in ("works", "villages", "roads")}
    else:
        assert config["tiles"] is None     # SpatiaLite cannot build tiles: GeoJSON for every layer
    settings.MAP_VECTOR_TILES = False
    page = client.get("/").content.decode()
    assert _config(page)["tiles"] is None and 'type="importmap"' not in page


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the tile decoder is loaded with tiles only")
def test_tile_decoder_modules_are_vendored_with_their_licences(client, register):
    page = client.get("/").content.decode()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page, re.S).group(1))["imports"]
    assert set(imports) == {"@mapbox/vector-tile", "@mapbox/point-geometry", "pbf"}
    for url in imports.values():
        assert url.startswith("/static/vendor/")            # served here, never from a CDN
        found = Path(finders.find(url.removeprefix("/static/")))
        assert found.is_file() and any(found.parent.glob("LICENSE*"))
    assert '<script type="module" src="/static/js/map-tiles.js">' in page
