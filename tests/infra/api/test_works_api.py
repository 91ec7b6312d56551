"""/api/works/: filters, paging, bad input and who sees what."""
from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.models import AdminUnit
from infra.accounts.models import Role
from infra.api import schema
from infra.works.choices import Category
from infra.works.models import Work
from infra.works.services import work_create
from tests.factories import user_with_role
from tests.infra.api.register import PHONG_THO, SQL_NAME

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PUBLIC = ["A-1", "B-1", "Q-1", "R-1", "S-1"]
ORDER = "bbox minimum longitude and latitude must be less than the maximum ones (minlon,minlat,maxlon,maxlat)."


def get(client, query: str = "", **extra):
    response = client.get(f"/api/works/{query}", **extra)
    return response, json.loads(response.content)


def codes(data) -> list[str]:
    return sorted(f["properties"]["code"] for f in data["features"])


def test_public_list_is_a_feature_collection_of_published_works(client, register):
    response, data = get(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert data["type"] == "FeatureCollection"
    assert codes(data) == PUBLIC
    assert data["numberMatched"] == data["numberReturned"] == 5
    assert [link["rel"] for link in data["links"]] == ["self"]


def test_features_carry_what_the_schema_promises(client, register):
    _response, data = get(client, "?q=A-1")
    (feature,) = data["features"]
    assert set(feature["properties"]) == set(schema.WORK_PROPERTIES)
    p = feature["properties"]
    assert feature["id"] == register["A-1"].pk
    assert feature["geometry"] == {"type": "Point", "coordinates": pytest.approx(list(PHONG_THO))}
    assert (p["category"], p["stage"], p["year"], p["commune_code"]) == ("health", "approved", 2022, "03549")
    assert p["approved_commune"] == "Huổi Luông"
    assert (p["total_investment"], p["allocated"], p["disbursed"]) == (4_103_750_000, 2_000_000_000, 500_000_000)
    assert p["last_maintenance"] == "2025-03-01"
    assert p["is_demo"] is False and p["all_season"] is None


@pytest.mark.parametrize(("query", "expected"), [
    ("?category=road", ["R-1"]),
    ("?category=road,school", ["R-1", "S-1"]),
    ("?category=road&category=school", ["R-1", "S-1"]),
    ("?stage=approved", ["A-1", "B-1", "Q-1"]),
    ("?stage=under_construction,designed", ["R-1", "S-1"]),
    ("?stage=proposed", []),  # the public never sees proposed works: an honest empty answer
    ("?year=2023", ["R-1", "S-1"]),
    ("?year=2030", []),
    ("?source=central", ["A-1"]),
    ("?source=local", ["S-1"]),
    ("?source=community", []),
    ("?q=trạm y tế", ["A-1"]),
    # Case and Vietnamese marks aside, however the letters were typed (composed or not).
    ("?q=tram y te", ["A-1"]),
    ("?q=TRẠM Y TẾ", ["A-1"]),
    ("?q=duong ban", ["R-1"]),
    ("?q=ĐƯỜNG", ["R-1"]),
    ("?q=%C4%90ie%CC%82%CC%89m%20tru%CC%9Bo%CC%9B%CC%80ng", ["S-1"]),  # "Điểm trường" in decomposed letters
    ("?q=cau treo ban ta chai", ["B-1"]),
    ("?q=_", ["Q-1"]),  # LIKE's wildcards are searched as themselves
    ("?q=__", []),
    ("?q=%25", []),
    ("?q=r-1", ["R-1"]),
    ("?q=%3Cscript%3Ealert(1)%3C/script%3E", []),
    ("?commune=03549", ["A-1", "Q-1", "R-1"]),
    ("?commune=03562", ["B-1", "S-1"]),
    # A former commune: the works approved under it, and the unclaimed works of the commune it merged into.
    ("?commune=03562@2025-06-30", ["S-1"]),
    ("?commune=03562@2022-08-03", ["S-1"]),
    ("?commune=03553@2025-06-30", ["B-1"]),
    ("?commune=03490@2025-06-30", ["A-1", "Q-1", "R-1"]),
    ("?category=health&commune=03549&year=2022&source=central", ["A-1"]),
])
def test_each_filter_narrows_the_works(client, register, query, expected):
    response, data = get(client, query)
    assert response.status_code == 200, data
    assert codes(data) == expected
    assert data["numberMatched"] == len(expected)


def test_bbox_finds_points_and_lines_crossing_it(client, register):
    _r, around = get(client, "?bbox=103.35,22.52,103.37,22.54")
    assert codes(around) == ["A-1", "Q-1", "R-1"]
    # Only the middle of the road R-1 lies in this box; neither of its ends does.
    _r, middle = get(client, "?bbox=103.3572,22.5272,103.3578,22.5278")
    assert codes(middle) == ["R-1"]
    _r, nowhere = get(client, "?bbox=100,10,100.5,10.5")
    assert nowhere["features"] == [] and nowhere["numberMatched"] == 0


def test_sql_in_the_search_is_only_text(client, register):
    _r, data = get(client, "?q=" + "'; DROP TABLE works_work; --")
    assert codes(data) == ["Q-1"]
    assert data["features"][0]["properties"]["name"] == SQL_NAME
    assert Work.objects.count() == 7


def test_paging_is_stable_in_id_order_with_links(client, register):
    pages, offset = [], 0
    while True:
        response, data = get(client, f"?limit=2&offset={offset}")
        assert response.status_code == 200
        assert data["numberMatched"] == 5
        pages.append([f["id"] for f in data["features"]])
        rels = {link["rel"]: link["href"] for link in data["links"]}
        if "next" not in rels:
            break
        assert f"offset={offset + 2}" in rels["next"]
        offset += 2
    ids = [i for page in pages for i in page]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert "prev" in rels and "offset=2" in rels["prev"]
    # The page's parts are written as they are, with the length stated: it must be the body's.
    assert int(response["Content-Length"]) == len(response.content)


def test_a_page_past_the_end_is_refused(client, register):
    response, data = get(client, "?offset=5")
    assert response.status_code == 400
    assert data["offset"] == ["offset 5 is past the end: 5 features match."]
    response, data = get(client, "?category=road&offset=1")
    assert response.status_code == 400
    # Nothing matching at offset 0 is an answer, not an error.
    response, data = get(client, "?year=2030")
    assert response.status_code == 200 and data["numberMatched"] == 0


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?bbox=103,22,104", "bbox", "bbox needs four numbers separated by commas: minlon,minlat,maxlon,maxlat."),
    ("?bbox=103,22,104,23,5", "bbox", "bbox needs four numbers separated by commas: minlon,minlat,maxlon,maxlat."),
    ("?bbox=a,b,c,d", "bbox", "bbox values must be numbers in degrees, for example 103.2,22.4,103.6,22.8."),
    ("?bbox=103,nan,104,23", "bbox", "bbox values must be numbers in degrees, for example 103.2,22.4,103.6,22.8."),
    ("?bbox=104,22,103,23", "bbox", ORDER),
    ("?bbox=103,23,104,22", "bbox", ORDER),
    ("?bbox=-181,22,104,23", "bbox", "bbox longitudes must lie between -180 and 180 and latitudes between -90 and 90."),
    ("?bbox=103,-91,104,23", "bbox", "bbox longitudes must lie between -180 and 180 and latitudes between -90 and 90."),
    ("?category=hospital", "category", "Unknown value “hospital”; use one or more of: health, school, water, irrigation, "
                                       "road, bridge, electricity, culture, other."),
    ("?stage=road,finished", "stage", None),
    ("?commune=99999", "commune", None),
    ("?commune=12345@2020-01-01", "commune", "No commune with code 12345 was in force on 01/01/2020."),
    ("?commune=<b>x</b>", "commune", "commune must be a code such as 03549, or a code and a date such as 03562@2025-06-30."),
    ("?commune=03562@2025-02-30", "commune", None),
    ("?year=abc", "year", None),
    ("?year=1800", "year", None),
    ("?source=bank", "source", None),
    ("?limit=0", "limit", None),
    ("?limit=10001", "limit", None),
    ("?offset=-1", "offset", None),
    ("?zoom=30", "zoom", None),
    ("?q=" + "x" * 101, "q", None),
    ("?q=%00", "q", None),
    ("?categroy=road", "non_field_errors", None),
])
def test_bad_input_is_a_400_with_a_message(client, register, query, field, message):
    response, data = get(client, query)
    assert response.status_code == 400
    assert list(data) == [field]
    assert data[field] and all(isinstance(m, str) and m for m in data[field])
    if message:
        assert data[field] == [message]


def test_messages_are_translated(client, register):
    response = client.get("/api/works/?bbox=1,2", HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 400
    assert json.loads(response.content)["bbox"] == ["bbox cần bốn số, cách nhau bằng dấu phẩy: minlon,minlat,maxlon,maxlat."]
    # REST framework's own field errors too, which its catalogue leaves in English (infra/i18n_thirdparty.py).
    errors = json.loads(client.get("/api/works/?limit=abc&year=1&source=nope", HTTP_ACCEPT_LANGUAGE="vi").content)
    assert errors == {"limit": ["Cần một số nguyên hợp lệ."], "year": ["Giá trị này phải lớn hơn hoặc bằng 2000."],
                      "source": ['"nope" không phải là lựa chọn hợp lệ.']}
    errors = json.loads(client.get("/api/works/?limit=abc", HTTP_ACCEPT_LANGUAGE="en").content)
    assert errors == {"limit": ["A valid integer is required."]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["bbox", "commune", "category", "stage", "year", "source", "q", "limit", "offset", "zoom"]),
       value=st.text(max_size=60))
def test_no_value_of_any_parameter_is_a_server_error(client, reference, name, value):
    response = client.get("/api/works/", {name: value})
    assert response.status_code in (200, 400)
    json.loads(response.content)


def test_one_work_as_a_feature(client, register):
    response = client.get(f"/api/works/{register['A-1'].pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    feature = json.loads(response.content)
    assert feature["type"] == "Feature" and feature["id"] == register["A-1"].pk
    assert set(feature["properties"]) == set(schema.WORK_DETAIL_PROPERTIES) - {"internal_notes"}
    assert feature["properties"]["approved_commune_valid_to"] == "2025-06-30"
    assert client.get("/api/works/999999/").status_code == 404


def test_public_sees_no_proposed_work_and_no_internal_notes(client, register):
    assert client.get(f"/api/works/{register['P-1'].pk}/").status_code == 404
    body = client.get(f"/api/works/{register['A-1'].pk}/").content.decode()
    assert "internal_notes" not in body and "ghi chú nội bộ" not in body
    assert "ghi chú nội bộ" not in client.get("/api/works/?limit=100").content.decode()


def test_board_sees_everything_with_internal_notes(client, register):
    client.force_login(user_with_role(Role.BOARD))
    _r, data = get(client)
    assert codes(data) == sorted(PUBLIC + ["P-1", "P-2"])
    feature = json.loads(client.get(f"/api/works/{register['P-1'].pk}/").content)
    assert feature["properties"]["internal_notes"] == "ghi chú nội bộ P"


def test_commune_officer_sees_own_proposed_works_but_not_other_communes(client, register):
    phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    client.force_login(user_with_role(Role.COMMUNE_OFFICER, communes=[phong_tho]))
    _r, data = get(client)
    assert codes(data) == sorted(PUBLIC + ["P-1"])
    _r, proposed = get(client, "?stage=proposed")
    assert codes(proposed) == ["P-1"]
    assert client.get(f"/api/works/{register['P-2'].pk}/").status_code == 404
    own = json.loads(client.get(f"/api/works/{register['P-1'].pk}/").content)
    assert own["properties"]["internal_notes"] == "ghi chú nội bộ P"
    other = json.loads(client.get(f"/api/works/{register['S-1'].pk}/").content)
    assert "internal_notes" not in other["properties"]


def test_officer_bound_to_a_former_commune_covers_its_successor(client, register):
    huoi_luong = AdminUnit.objects.get(level="commune", code="03490", valid_to=date(2025, 6, 30))
    client.force_login(user_with_role(Role.COMMUNE_OFFICER, communes=[huoi_luong]))
    _r, data = get(client, "?stage=proposed")
    assert codes(data) == ["P-1"]


def _more_works(count: int) -> None:
    for i in range(count):
        work_create(user=None, code=f"X-{i}", name=f"Công trình thêm {i}", category=Category.CULTURE,
                    geometry=Point(PHONG_THO[0] + 0.0001 * i, PHONG_THO[1], srid=4326), approved_year=2022,
                    stage_date=date(2022, 8, 1))


@pytest.mark.parametrize("role", [None, Role.BOARD, Role.COMMUNE_OFFICER])
def test_the_number_of_queries_does_not_grow_with_the_works(client, register, role):
    if role:
        phong_tho = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
        client.force_login(user_with_role(role, communes=[phong_tho]))
    query = "?commune=03549&source=central&bbox=103,22,104,23&q=a"
    client.get("/api/works/" + query)  # warm: per-process caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/works/" + query).status_code == 200
    _more_works(25)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/works/" + query).status_code == 200
    assert len(many) == len(few)
    # At most: session, user, the commune, the officer's profile, scope and successions, on PostGIS the
    # searched text folded by the database (gis.textsearch.folded), then ONE statement that builds the page.
    assert len(few) <= (8 if connection.vendor == "postgresql" else 7)
    assert sum("FeatureCollection" in q["sql"] for q in many.captured_queries) == 1
