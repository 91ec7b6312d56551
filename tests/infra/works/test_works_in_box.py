"""Works in a box: /api/works/ and /ogc/ find exactly the works whose geometry intersects it.

On PostGIS the count reads an index of the works' extents (gis.layers.bbox_parts: extents inside the
box, then the few crossing its edges, tested exactly); these shapes sit inside, on and around the
box's edges and corners, and the answer is checked against GEOS in Python, on both databases.
"""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, Point, Polygon
from django.db import connection

from gis.layers import BBox, feature_page
from infra.accounts.models import Role
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.selectors import WorkFilters, works_in_box, works_layer, works_matching
from tests.factories import WorkFactory, user_with_role

pytestmark = pytest.mark.django_db

BOX = (103.30, 22.50, 103.40, 22.60)
QUERY = ",".join(f"{v:.2f}" for v in BOX)
SHAPES = {
    "point inside": Point(103.35, 22.55),
    "point on the right edge": Point(103.40, 22.55),
    "point on a corner": Point(103.30, 22.50),
    "point just outside": Point(103.4001, 22.55),
    "line inside": LineString((103.31, 22.51), (103.32, 22.52)),
    "line across": LineString((103.25, 22.55), (103.45, 22.55)),
    "line touching a corner": LineString((103.40, 22.60), (103.45, 22.65)),
    # Each of these crosses one edge of the box only.
    "line crossing the left edge": LineString((103.25, 22.53), (103.32, 22.54)),
    "line crossing the right edge": LineString((103.38, 22.55), (103.45, 22.56)),
    "polygon crossing the bottom edge": Polygon.from_bbox((103.33, 22.45, 103.36, 22.52)),
    # Its extent holds the whole box, but the line runs below and to the right of it.
    "hook around": LineString((103.25, 22.45), (103.45, 22.45), (103.45, 22.65)),
    "polygon over the box": Polygon.from_bbox((103.2, 22.4, 103.5, 22.7)),
    # Its extent holds the box too, but the box lies in its hole.
    "ring around": Polygon(((103.2, 22.4), (103.5, 22.4), (103.5, 22.7), (103.2, 22.7), (103.2, 22.4)),
                           ((103.28, 22.48), (103.28, 22.62), (103.42, 22.62), (103.42, 22.48), (103.28, 22.48))),
    "polygon crossing the top edge": Polygon.from_bbox((103.33, 22.58, 103.36, 22.65)),
    "polygon just above": Polygon.from_bbox((103.33, 22.6001, 103.36, 22.65)),
    # Closer to an edge than PostgreSQL's tolerance for comparing boxes (1e-6): only the geometry decides.
    "point a hair right of the box": Point(103.4000005, 22.55),
    "line a hair left of the box": LineString((103.29, 22.53), (103.2999995, 22.54)),
    "point a hair below the box": Point(103.35, 22.4999995),
    "point a hair above the box": Point(103.36, 22.6000005),
    "point a hair inside the top edge": Point(103.37, 22.5999995),
}


@pytest.fixture
def shapes(db):
    works = {}
    for name, geometry in SHAPES.items():
        geometry.srid = 4326
        works[name] = WorkFactory(name=name, geometry=geometry, category=Category.OTHER, stage=Stage.APPROVED)
    # Inside the box, but not published: only those who may see proposals find it.
    geometry = Point(103.36, 22.56, srid=4326)
    works["proposal inside"] = WorkFactory(name="proposal inside", geometry=geometry, stage=Stage.PROPOSED)
    return works


def expected(works: dict[str, Work], *, public: bool, bounds: tuple[float, ...] = BOX) -> list[int]:
    box = Polygon.from_bbox(bounds)
    box.srid = 4326
    return sorted(w.pk for w in works.values()
                  if GEOSGeometry(w.geometry).intersects(box) and not (public and w.stage == Stage.PROPOSED))


def test_the_shapes_cover_every_case(shapes):
    found = {name for name, work in shapes.items() if work.pk in expected(shapes, public=False)}
    assert found == {"point inside", "point on the right edge", "point on a corner", "line inside", "line across",
                     "line touching a corner", "line crossing the left edge", "line crossing the right edge",
                     "polygon crossing the bottom edge", "polygon over the box", "polygon crossing the top edge",
                     "point a hair inside the top edge", "proposal inside"}


@pytest.mark.parametrize("path", ["/api/works/", "/ogc/collections/works/items"])
def test_a_box_finds_what_intersects_it(client, shapes, path):
    data = json.loads(client.get(f"{path}?bbox={QUERY}&limit=100").content)
    want = expected(shapes, public=True)
    assert [f["id"] for f in data["features"]] == want
    assert data["numberMatched"] == len(want) == 12


@pytest.mark.parametrize("bounds", [(103.35, 22.54, 103.350005, 22.56), (103.30, 22.5499995, 103.45, 22.5500005),
                                    (103.3999995, 22.4, 103.4000005, 22.7)])
def test_a_box_narrower_than_the_tolerance_finds_what_intersects_it(client, shapes, bounds):
    query = ",".join(f"{v:.7f}" for v in bounds)
    data = json.loads(client.get(f"/ogc/collections/works/items?bbox={query}&limit=100").content)
    want = expected(shapes, public=True, bounds=bounds)
    assert [f["id"] for f in data["features"]] == want and data["numberMatched"] == len(want) > 0


def test_those_who_see_proposals_find_them_in_the_box(client, shapes):
    client.force_login(user_with_role(Role.BOARD))
    data = json.loads(client.get(f"/ogc/collections/works/items?bbox={QUERY}&limit=100").content)
    assert [f["id"] for f in data["features"]] == expected(shapes, public=False)
    assert data["numberMatched"] == 13


@pytest.mark.parametrize("cap", [0, 3, 12, 10_000])
def test_pages_over_and_under_the_count_cap_hold_each_work_once(shapes, cap):
    from django.contrib.auth.models import AnonymousUser

    bbox = BBox(*BOX)
    match, count_match = works_in_box(works_matching(user=AnonymousUser(), filters=WorkFilters()), bbox)
    seen, offset = [], 0
    while True:
        page = feature_page(works_layer(), match=match, count_match=count_match, limit=3, offset=offset, count_cap=cap)
        data = json.loads(page.text)
        assert page.matched == (12 if cap >= 12 else None)
        seen += [f["id"] for f in data["features"]]
        if page.returned < 3:
            break
        offset += 3
    assert seen == expected(shapes, public=True)


def test_a_moved_work_is_found_where_it_now_lies(client, shapes):
    moved = shapes["point inside"]
    moved.geometry = Point(104.0, 23.0, srid=4326)
    moved.save(update_fields=["geometry"])
    data = json.loads(client.get(f"/api/works/?bbox={QUERY}").content)
    assert moved.pk not in [f["id"] for f in data["features"]] and data["numberMatched"] == 11
    data = json.loads(client.get("/api/works/?bbox=103.99,22.99,104.01,23.01").content)
    assert [f["id"] for f in data["features"]] == [moved.pk]


@pytest.mark.parametrize("role", [None, Role.BOARD, Role.COMMUNE_OFFICER])
def test_one_compiled_query_takes_each_condition_as_compiling_each_would(reference, shapes, role):
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from gis.models import AdminUnit
    from infra.works.selectors import _each_condition, works_match

    communes = AdminUnit.objects.filter(level="commune")[:2]
    assert len(communes) == 2
    user = AnonymousUser() if role is None else user_with_role(role, communes=communes)
    works = works_matching(user=user, filters=WorkFilters(categories=("other", "health"), stages=("approved",), year=2022))
    conditions = [("works_work.approved_year >= %s", [2020]), ("works_work.name LIKE %s", ["%point%"]), ("true", [])]
    each = [works_match(works.filter(RawSQL(sql, params, output_field=BooleanField()))) for sql, params in conditions]
    assert _each_condition(works, conditions) == [(sql, list(params)) for sql, params in each]


@pytest.fixture
def compiled():
    """The process's kept match statements (infra.works.selectors._COMPILED), empty before and after."""
    from infra.works import selectors

    selectors._COMPILED.clear()
    yield selectors._COMPILED
    selectors._COMPILED.clear()


ROLES = [None, Role.BOARD, Role.PLANNER, Role.AUDITOR, Role.COMMUNE_OFFICER]
FILTERS = [WorkFilters(), WorkFilters(bbox=BBox(*BOX)),
           WorkFilters(categories=("other",), stages=("approved", "proposed"), bbox=BBox(*BOX)),
           WorkFilters(first_year=2000, last_year=2100, bbox=BBox(*BOX))]


def _user(role, communes=()):
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser() if role is None else user_with_role(role, communes=communes)


@pytest.mark.parametrize("filters", FILTERS)
def test_a_kept_statement_is_what_compiling_it_for_that_person_gives(reference, shapes, compiled, filters):
    from gis.models import AdminUnit
    from infra.works.selectors import _page_match

    communes = list(AdminUnit.objects.filter(level="commune")[:1])
    for role in ROLES:
        user = _user(role, communes)
        fresh = works_in_box(works_matching(user=user, filters=replace(filters, bbox=None)), filters.bbox)
        assert _page_match(user, filters) == fresh  # compiled and kept (or, for an officer, compiled)
        assert _page_match(user, filters) == fresh  # from what was kept
    # One per set of stages seen whole (the public's; everyone's for the board, planners and auditors),
    # none for the officer, whose statement names their communes.
    assert len(compiled) == 2


def test_the_public_never_gets_a_statement_kept_for_those_who_see_more(client, shapes, compiled):
    client.force_login(user_with_role(Role.BOARD))
    data = json.loads(client.get(f"/ogc/collections/works/items?bbox={QUERY}&limit=100").content)
    assert [f["id"] for f in data["features"]] == expected(shapes, public=False)
    client.logout()
    data = json.loads(client.get(f"/ogc/collections/works/items?bbox={QUERY}&limit=100").content)
    assert [f["id"] for f in data["features"]] == expected(shapes, public=True)
    assert data["numberMatched"] == 12


def test_filters_that_look_rows_up_are_compiled_for_each_request(reference, client, shapes, compiled):
    from gis.models import AdminUnit

    commune = AdminUnit.objects.filter(level="commune", valid_to__isnull=True).first()
    assert client.get(f"/ogc/collections/works/items?bbox={QUERY}&commune={commune.code}").status_code == 200
    assert client.get(f"/api/works/?bbox={QUERY}&q=point").status_code == 200
    assert compiled == {}


def test_a_box_counts_ten_pages_worth_between_the_cap_and_its_ceiling():
    from infra.works.selectors import BOX_COUNT_MAX, box_count_cap

    assert [box_count_cap(limit) for limit in (1, 10, 1_000, 2_000, 10_000)] == [10_000, 10_000, 10_000, 20_000, 100_000]
    assert box_count_cap(10**6) == BOX_COUNT_MAX


def test_a_larger_page_in_a_box_counts_further_on_postgis(client, shapes, monkeypatch):
    # The same rule with small numbers: 12 public works in the box, a cap of 3, a ceiling of 20.
    from infra.works import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    monkeypatch.setattr(selectors, "BOX_COUNT_MAX", 20)
    counted = {}
    for limit in (1, 2, 5):
        data = json.loads(client.get(f"/ogc/collections/works/items?bbox={QUERY}&limit={limit}").content)
        counted[limit] = data.get("numberMatched")
        assert len(data["features"]) == limit
    if connection.vendor == "postgresql":  # the box is counted from the extents' index: ten pages' worth
        assert counted == {1: None, 2: 12, 5: 12}
    else:  # SpatiaLite counts through the match itself: the cap stays
        assert counted == {1: None, 2: None, 5: None}


@pytest.mark.parametrize("bounds", [BOX, (103.3, 22.5, 103.300001, 22.6), (-1.5, -2.5, 103.4, 22.6)])
@pytest.mark.parametrize("role", [None, Role.BOARD])
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SpatiaLite's box conditions are put together each time")
def test_a_box_s_kept_text_gives_the_statement_put_together_for_that_box(reference, role, bounds):
    # On PostGIS a kept statement's box conditions are formatted from texts kept per statement and shape
    # (selectors._box_templates); they give what putting the conditions in, one by one, gives. Braces in the
    # statement (a JSON or array literal) stay as they are.
    from gis.layers import bbox_parts
    from infra.works.selectors import EXTENT, WORKS, _box_condition, _box_match, _each_condition, _split, works_count

    box = BBox(*bounds)
    split = _split(works_matching(user=_user(role), filters=WorkFilters(categories=("other",))))
    braced = replace(split, head=split.head.replace("SELECT", "SELECT '{0} {}' AS braces,", 1))
    for kept in (split, braced):
        conditions = [_box_condition(box), *bbox_parts(box, table=WORKS, outer=f'"{WORKS}"', extent=EXTENT,
                                                       geometry="geometry")]
        match, *parts = _each_condition(kept, conditions)
        put_together = (" UNION ALL ".join(f"({sql})" for sql, _params in parts), [p for _sql, ps in parts for p in ps])
        assert _box_match(kept, box) == (match, put_together)
    assert "'{0} {}' AS braces" in _box_match(braced, box)[0][0]
    sql, params = works_count(user=_user(None), filters=WorkFilters())  # the public's count names its stages once
    assert params == () and "'approved'" in sql and "'proposed'" not in sql
