"""/ogc/: OGC API – Features core structure, paging, who sees what, and bad input."""
from __future__ import annotations

import json
from datetime import date

import pytest

from gis.models import AdminUnit
from infra.accounts.models import Role
from infra.ogc.collections import COLLECTIONS
from infra.works.models import Work
from tests.factories import user_with_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PUBLIC = ["A-1", "B-1", "Q-1", "R-1", "S-1"]
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


def get(client, url: str, **extra):
    response = client.get(url, **extra)
    return response, json.loads(response.content)


def rels(links) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for link in links:
        assert {"href", "rel"} <= set(link), link
        assert link["href"].startswith("http://testserver/")
        found.setdefault(link["rel"], []).append(link)
    return found


def codes(data) -> list[str]:
    return sorted(f["properties"]["code"] for f in data["features"])


def test_landing_page_answers_without_its_slash_as_a_machine_path(reference):
    from django.test import Client

    # QGIS asks for the address as typed and does not follow a redirect; English asked, English given.
    response, data = get(Client(HTTP_ACCEPT_LANGUAGE="en"), "/ogc")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Language"] == "en"
    assert data == get(Client(HTTP_ACCEPT_LANGUAGE="en"), "/ogc/")[1]


def test_landing_page_links_what_the_core_requires(client, reference):
    response, data = get(client, "/ogc/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert data["title"]
    links = rels(data["links"])
    for rel in ("self", "alternate", "service-desc", "service-doc", "conformance", "data"):
        assert rel in links, rel
    assert links["service-desc"][0]["href"] == "http://testserver/ogc/api"
    definition = client.get(links["service-desc"][0]["href"])
    # GDAL checks the served type against the link's, parameters included.
    assert definition["Content-Type"] == links["service-desc"][0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    paths = json.loads(definition.content)["paths"]
    assert {"/", "/conformance", "/collections", "/collections/works/items", "/collections/works/items/{featureId}"} <= set(paths)
    names = {p["name"] for p in paths["/collections/works/items"]["get"]["parameters"]}
    assert {"bbox", "limit", "offset", "datetime", "category", "stage", "year"} <= names and "commune" not in names
    assert client.get(links["service-doc"][0]["href"]).status_code == 200
    assert client.get(links["conformance"][0]["href"]).status_code == 200
    assert client.get(links["data"][0]["href"]).status_code == 200


def test_conformance_declares_core_and_geojson(client, reference):
    _response, data = get(client, "/ogc/conformance")
    assert CORE in data["conformsTo"] and GEOJSON_CLASS in data["conformsTo"]


def test_collections_describe_every_layer_with_extent_and_items_link(client, reference):
    _response, data = get(client, "/ogc/collections")
    assert "self" in rels(data["links"])
    assert [c["id"] for c in data["collections"]] == list(COLLECTIONS)
    assert {"works", "communes", "communes-2025-06-30", "villages", "roads", "village-links"} == set(COLLECTIONS)
    for described in data["collections"]:
        links = rels(described["links"])
        assert any(link["type"] == "application/geo+json" for link in links["items"])
        minx, miny, maxx, maxy = described["extent"]["spatial"]["bbox"][0]
        assert 102 < minx < maxx < 104.5 and 21 < miny < maxy < 23
        assert described["itemType"] == "feature"
        _r, one = get(client, f"/ogc/collections/{described['id']}")
        assert one["id"] == described["id"] and "items" in rels(one["links"])
    by_id = {c["id"]: c for c in data["collections"]}
    assert by_id["communes"]["extent"]["temporal"]["interval"][0][1] is None
    assert by_id["communes-2025-06-30"]["extent"]["temporal"]["interval"][0][1].startswith("2025-06-30")
    assert "temporal" not in by_id["villages"]["extent"]


def test_items_is_a_feature_collection_with_the_required_members(client, register):
    response, data = get(client, "/ogc/collections/works/items")
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    assert data["type"] == "FeatureCollection"
    assert codes(data) == PUBLIC
    assert data["numberMatched"] == data["numberReturned"] == 5
    assert data["timeStamp"].endswith("Z")
    links = rels(data["links"])
    assert {"self", "alternate", "collection"} <= set(links) and "next" not in links and "prev" not in links
    assert links["self"][0]["type"] == "application/geo+json"
    for feature in data["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], int) and feature["geometry"]["type"]


def test_geojson_is_also_chosen_by_accept_header_and_html_by_f(client, register):
    response = client.get("/ogc/collections/works/items", HTTP_ACCEPT="application/geo+json")
    assert response["Content-Type"] == "application/geo+json"
    response = client.get("/ogc/collections/works/items?f=html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "A-1" in response.content.decode()
    for url in ("/ogc/?f=html", "/ogc/collections?f=html", "/ogc/conformance?f=html", "/ogc/collections/works?f=html",
                f"/ogc/collections/works/items/{register['A-1'].pk}?f=html"):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html"), url
    assert client.get("/ogc/", HTTP_ACCEPT="text/html,application/xhtml+xml")["Content-Type"].startswith("text/html")


def test_a_refusal_asked_for_as_html_is_the_sites_error_page(client, register):
    # A browser reading the HTML pages got OGC's JSON exception body for a bad parameter or an unknown feature.
    response = client.get("/ogc/collections/works/items?f=html&limit=0")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "limit" in response.content.decode() and '"code"' not in response.content.decode()
    response = client.get("/ogc/collections/works/items/999999?f=html")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    # programs still get the exception body
    assert client.get("/ogc/collections/works/items?limit=0").json()["code"] == "InvalidParameterValue"


def walk(client, url: str) -> list[int]:
    """Follow `next` until there is none; check each page's prev link and counts on the way."""
    ids, pages = [], 0
    while url:
        response, data = get(client, url)
        assert response.status_code == 200, data
        assert int(response["Content-Length"]) == len(response.content)  # stated, not measured by Django
        links = rels(data["links"])
        assert ("prev" in links) == (pages > 0)
        ids += [f["id"] for f in data["features"]]
        assert data["numberReturned"] == len(data["features"])
        url = links["next"][0]["href"] if "next" in links else None
        pages += 1
        assert pages < 100
    return ids


@pytest.mark.parametrize("query", ["limit=1", "limit=1&offset=2&f=json", "stage=approved&stage=completed&limit=1&year=",
                                   "limit=1&datetime=2000-01-01/..&bbox=100,8,110,24&category=health,school,road,water,other"])
def test_page_links_change_f_and_offset_and_keep_every_other_parameter(client, register, query):
    from rest_framework.utils.urls import replace_query_param

    client.force_login(user_with_role(Role.BOARD))
    response, data = get(client, f"/ogc/collections/works/items?{query}&offset=1")
    assert response.status_code == 200, data
    links = {link["rel"]: link["href"] for link in data["links"]}
    asked = f"http://testserver/ogc/collections/works/items?{query}&offset=1"
    this = replace_query_param(asked, "f", "json")
    assert links["self"] == this
    assert links["alternate"] == replace_query_param(asked, "f", "html")
    assert links["next"] == replace_query_param(this, "offset", 2)
    assert links["prev"] == replace_query_param(this, "offset", 0)
    assert links["collection"] == "http://testserver/ogc/collections/works?f=json"


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_paging_walks_current_communes_exactly_once(client, reference, limit):
    ids = walk(client, f"/ogc/collections/communes/items?limit={limit}")
    expected = sorted(AdminUnit.objects.filter(level="commune", valid_to__isnull=True).values_list("id", flat=True))
    assert len(ids) == len(set(ids)) and sorted(ids) == expected == ids


def test_paging_walks_works_exactly_once_for_the_board(client, register):
    client.force_login(user_with_role(Role.BOARD))
    ids = walk(client, "/ogc/collections/works/items?limit=2")
    assert ids == sorted(Work.objects.values_list("id", flat=True))


def test_former_communes_are_those_ended_on_the_eve_of_the_reform(client, reference):
    ids = walk(client, "/ogc/collections/communes-2025-06-30/items?limit=5")
    assert ids == sorted(AdminUnit.objects.filter(level="commune", valid_to=date(2025, 6, 30)).values_list("id", flat=True))


@pytest.mark.parametrize(("query", "expected"), [
    ("category=road", ["R-1"]),
    ("category=road,school", ["R-1", "S-1"]),
    ("stage=approved", ["A-1", "B-1", "Q-1"]),
    ("stage=proposed", []),
    ("year=2023", ["R-1", "S-1"]),
    ("commune=03562", ["B-1", "S-1"]),
    ("datetime=2023-01-01/2023-12-31", ["R-1", "S-1"]),
    ("datetime=2023-06-01", ["R-1", "S-1"]),
    ("datetime=2024-01-01T00:00:00Z/..", ["B-1", "Q-1"]),
    ("datetime=../2022-12-31", ["A-1"]),
    ("bbox=103.3,22.5,103.4,22.6", ["A-1", "Q-1", "R-1"]),
])
def test_works_filters(client, register, query, expected):
    response, data = get(client, f"/ogc/collections/works/items?{query}")
    assert response.status_code == 200, data
    assert codes(data) == expected


def test_admin_unit_datetime_is_the_validity_period(client, reference):
    _r, before = get(client, "/ogc/collections/communes/items?datetime=2025-01-01")
    _r, after = get(client, "/ogc/collections/communes/items?datetime=2025-08-01")
    _r, former = get(client, "/ogc/collections/communes-2025-06-30/items?datetime=2025-08-01/..")
    assert before["numberMatched"] == 0 and after["numberMatched"] == 38 and former["numberMatched"] == 0


def test_public_sees_public_works_and_fields_only(client, register):
    _r, data = get(client, "/ogc/collections/works/items?limit=100")
    assert not any(f["properties"]["code"].startswith("P-") for f in data["features"])
    assert all("internal_notes" not in f["properties"] for f in data["features"])
    assert client.get(f"/ogc/collections/works/items/{register['P-1'].pk}").status_code == 404
    _r, school = get(client, f"/ogc/collections/works/items/{register['S-1'].pk}")
    assert school["properties"]["code"] == "S-1" and "internal_notes" not in school["properties"]
    assert {"self", "alternate", "collection"} <= set(rels(school["links"]))
    client.force_login(user_with_role(Role.BOARD))
    _r, school = get(client, f"/ogc/collections/works/items/{register['S-1'].pk}")
    assert "internal_notes" in school["properties"]
    assert client.get(f"/ogc/collections/works/items/{register['P-1'].pk}").status_code == 200


def test_items_of_each_other_collection(client, register):
    commune = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    response, data = get(client, f"/ogc/collections/communes/items/{commune.pk}")
    assert response.status_code == 200 and data["properties"]["code"] == "03549"
    assert client.get(f"/ogc/collections/communes-2025-06-30/items/{commune.pk}").status_code == 404
    for collection in ("villages", "roads", "village-links"):
        response, data = get(client, f"/ogc/collections/{collection}/items?limit=5")
        assert response.status_code == 200 and data["type"] == "FeatureCollection", collection


@pytest.mark.parametrize(("url", "status", "message"), [
    ("/ogc/collections/works/items?bbox=1,2", 400, "bbox needs four numbers"),
    ("/ogc/collections/works/items?bbox=a,b,c,d", 400, "bbox values must be numbers"),
    ("/ogc/collections/works/items?bbox=104,22,103,23", 400, "bbox minimum"),
    ("/ogc/collections/works/items?bbox=0,0,200,1", 400, "bbox longitudes"),
    ("/ogc/collections/works/items?limit=0", 400, "limit"),
    ("/ogc/collections/works/items?limit=10001", 400, "limit"),
    ("/ogc/collections/works/items?limit=ten", 400, "limit"),
    ("/ogc/collections/works/items?offset=-1", 400, "offset"),
    ("/ogc/collections/works/items?offset=x", 400, "offset"),
    ("/ogc/collections/works/items?datetime=yesterday", 400, "datetime must be"),
    ("/ogc/collections/works/items?datetime=2024-13-01", 400, "datetime must be"),
    ("/ogc/collections/works/items?datetime=2025-01-01/2024-01-01", 400, "start before it ends"),
    ("/ogc/collections/works/items?datetime=/", 400, "datetime must be"),
    ("/ogc/collections/works/items?category=castle", 400, "Unknown value"),
    ("/ogc/collections/works/items?colour=red", 400, "Unknown parameter"),
    ("/ogc/collections/villages/items?datetime=2024-01-01", 400, "Unknown parameter"),
    ("/ogc/collections/works/items?f=xml", 400, "f must be json or html"),
    ("/ogc/?f=pdf", 400, "f must be json or html"),
    ("/ogc/collections/nope", 404, "No collection"),
    ("/ogc/collections/nope/items", 404, "No collection"),
    ("/ogc/collections/works/items/abc", 404, "No feature"),
    ("/ogc/collections/works/items/99999999999999999999999", 404, "No feature"),
    ("/ogc/collections/works/items/0", 404, "No feature"),
    ("/ogc/collections/communes/items/-1", 404, "No feature"),
])
def test_bad_input_is_refused_with_a_message(client, register, url, status, message):
    response, data = get(client, url)
    assert response.status_code == status
    assert set(data) == {"code", "description"} and message in data["description"]


def test_offset_past_the_end_is_an_empty_page(client, register):
    response, data = get(client, "/ogc/collections/works/items?offset=50")
    assert response.status_code == 200 and data["features"] == [] and data["numberMatched"] == 5
    assert "prev" in rels(data["links"]) and "next" not in rels(data["links"])


def test_only_reading_is_allowed(client, reference):
    assert client.post("/ogc/collections/works/items").status_code == 405
    assert client.head("/ogc/collections").status_code == 200


def test_the_time_stamp_is_the_current_second_in_utc(monkeypatch):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from infra.ogc import views

    now = [datetime(2026, 12, 5, 19, 0, 0, 900000, tzinfo=UTC).timestamp()]
    monkeypatch.setattr(views, "time", SimpleNamespace(time=lambda: now[0]))  # this module's clock only
    assert views._stamp() == "2026-12-05T19:00:00Z"
    now[0] += 0.05  # the same second: the same text
    assert views._stamp() == "2026-12-05T19:00:00Z"
    now[0] += 0.1  # the next second
    assert views._stamp() == "2026-12-05T19:00:01Z"
    now[0] += 86400 * 31
    assert views._stamp() == "2027-01-05T19:00:01Z"


def test_an_items_page_links_its_collection_in_the_language_and_host_asked(reference):
    # The collection's link is written once per items URL and language and kept (ogc.views._collection_link):
    # each language, host and collection still gets its own.
    from django.test import Client
    from django.utils import translation

    def collection_link(language: str, host: str, collection: str) -> dict:
        data = get(Client(HTTP_ACCEPT_LANGUAGE=language, HTTP_HOST=host), f"/ogc/collections/{collection}/items?limit=1")[1]
        return next(link for link in data["links"] if link["rel"] == "collection")

    for collection in ("works", "communes"):
        titles = {}
        for language in ("en", "vi", "en", "vi"):
            with translation.override(language):
                titles[language] = str(COLLECTIONS[collection].title)
            for host in ("testserver", "127.0.0.1"):
                link = collection_link(language, host, collection)
                assert link == {"href": f"http://{host}/ogc/collections/{collection}?f=json", "rel": "collection",
                                "type": "application/json", "title": titles[language]}
        assert titles["en"] != titles["vi"]
