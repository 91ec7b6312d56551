"""GeoJSON built in the database: one statement per page, the same answers on PostGIS and SpatiaLite."""
from __future__ import annotations

import datetime
import json
import random

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from gis import layers
from gis.layers import BBox, Layer, feature, feature_collection, feature_page, json_bool, precision_for_zoom, tolerance_for_zoom
from gis.models import AdminUnit

pytestmark = pytest.mark.django_db

UNITS = Layer(table="geo_adminunit", geometry="t.boundary", spatial_index="boundary",
              properties={"code": "t.code", "name": "t.name", "ok": json_bool("t.border"), "none": "NULL"})
COMMUNES = "t.level = %s AND t.valid_to IS NULL"


@pytest.mark.parametrize("values", [
    (103.0, 22.0, 103.0, 23.0), (104.0, 22.0, 103.0, 23.0), (-181.0, 0.0, 0.0, 1.0), (0.0, -91.0, 1.0, 0.0),
    (0.0, 0.0, float("nan"), 1.0), (0.0, 0.0, float("inf"), 1.0),
])
def test_bbox_refuses_what_is_not_a_box(values):
    with pytest.raises(ValueError):
        BBox(*values)


def test_a_box_number_is_written_as_the_driver_writes_a_float():
    # PostGIS statements carry a box's numbers in their text (gis.layers.sql_number): the text must be what
    # psycopg2 sends for the same value as a parameter, so the statement, its plan and its answer stay the same.
    from psycopg2.extensions import adapt

    numbers = [0.0, -0.0, 1.0, -1.0, 103.35, -179.99999, 22.53 + 1e-5, 1e-05, -1e-07, 1e16, 180.0, 2 / 3, -90.0]
    rng = random.Random(7)
    numbers += [rng.uniform(-180, 180) for _ in range(200)]
    for number in numbers:
        assert layers.sql_number(number) == adapt(number).getquoted().decode()
    assert "--" not in f"1 -{layers.sql_number(-5.0)}"
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            layers.sql_number(bad)


def test_words_written_into_a_statement_are_what_the_driver_sends_for_them(reference):
    sql = "SELECT %s AS a, '100%%' AS b, %s AS c WHERE %s <> 'x'"
    words = ["cancelled", "Proposed_2", "0"]
    text, params = layers.sql_with_words(sql, words)
    if connection.vendor != "postgresql":
        assert (text, params) == (sql, tuple(words))  # SQLite's driver takes its parameters as they are
        return
    assert params == () and "cancelled" in text
    with connection.cursor() as cursor:
        assert text % () == cursor.cursor.mogrify(sql, words).decode()  # what the driver sends either way
        cursor.execute(text, list(params))
        assert cursor.fetchone() == ("cancelled", "100%", "Proposed_2")
    for others in (["it's"], ["a b"], ["ẩ"], [5], ["cancelled", None], []):
        assert layers.sql_with_words(sql, others) == (sql, tuple(others))


def test_a_box_in_the_statement_selects_what_the_box_as_parameters_selects(reference):
    if connection.vendor != "postgresql":
        pytest.skip("SpatiaLite statements take a box's numbers as parameters")
    for box in (BBox(103.3, 22.4, 103.4, 22.6), BBox(103.20001, 22.35, 103.5, 22.70009), BBox(-10.5, -5.25, 103.31, 22.5)):
        sql, params = layers.bbox_condition(box, geometry="t.boundary")
        assert params == [] and "%s" not in sql
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT array_agg(t.id ORDER BY t.id) FROM geo_adminunit t WHERE {sql}")
            written = cursor.fetchone()[0]
            cursor.execute("SELECT array_agg(t.id ORDER BY t.id) FROM geo_adminunit t "
                           "WHERE ST_Intersects(t.boundary, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", box.values)
            assert written == cursor.fetchone()[0]
    assert written  # the last box holds the district


def test_zoom_gives_half_a_pixel_and_enough_decimals():
    assert tolerance_for_zoom(0) == pytest.approx(360 / 256 / 2)
    assert tolerance_for_zoom(10) == pytest.approx(tolerance_for_zoom(9) / 2)
    assert [precision_for_zoom(z) for z in (0, 10, 14, 22)] == [3, 4, 5, 6]


def test_collection_is_one_statement_ordered_by_id(reference):
    with CaptureQueriesContext(connection) as queries:
        data = json.loads(feature_collection(UNITS, where=COMMUNES, params=["commune"]))
    assert len(queries) == 1
    ids = [f["id"] for f in data["features"]]
    assert ids == sorted(ids) and len(ids) == AdminUnit.objects.current().filter(level="commune").count()
    props = data["features"][0]["properties"]
    assert props["ok"] in (True, False) and props["none"] is None


def test_limit_offset_and_an_empty_answer(reference):
    every = [f["id"] for f in json.loads(feature_collection(UNITS, where=COMMUNES, params=["commune"]))["features"]]
    page = json.loads(feature_collection(UNITS, where=COMMUNES, params=["commune"], limit=3, offset=2))
    assert [f["id"] for f in page["features"]] == every[2:5]
    assert json.loads(feature_collection(UNITS, where="1 = 0")) == {"type": "FeatureCollection", "features": []}


def test_page_counts_what_matches(reference):
    page = feature_page(UNITS, where=COMMUNES, params=["commune"], limit=5, offset=5)
    data = json.loads(page.text)
    total = AdminUnit.objects.current().filter(level="commune").count()
    assert page.matched == data["numberMatched"] == total
    assert page.returned == data["numberReturned"] == len(data["features"]) == 5


def test_page_over_the_count_cap_pages_without_counting(reference):
    exact = feature_page(UNITS, where=COMMUNES, params=["commune"], limit=4, offset=8)
    capped = feature_page(UNITS, where=COMMUNES, params=["commune"], limit=4, offset=8, count_cap=3)
    data = json.loads(capped.text)
    assert capped.matched is None and "numberMatched" not in data
    assert capped.returned == data["numberReturned"] == 4
    assert [f["id"] for f in data["features"]] == [f["id"] for f in json.loads(exact.text)["features"]]


@pytest.mark.parametrize("cap", [3, 10_000])
def test_a_raw_page_is_the_same_document_as_utf8_bytes(reference, cap):
    text = feature_page(UNITS, where=COMMUNES, params=["commune"], limit=4, offset=1, count_cap=cap)
    raw = feature_page(UNITS, where=COMMUNES, params=["commune"], limit=4, offset=1, count_cap=cap, raw=True)
    assert isinstance(raw.text, bytes) and raw.document() == text.text.encode()
    assert raw.head() == text.text.encode()[:-1]
    # On PostgreSQL the database leaves the closing brace out, so that head() need not copy the text.
    assert raw.open is (connection.vendor == "postgresql") and (raw.head() is raw.text) is raw.open
    assert (raw.matched, raw.returned) == (text.matched, text.returned)
    assert ("numberMatched" in json.loads(raw.document())) is (cap == 10_000)
    assert json.loads(raw.head() + b', "extra": 1}') == {**json.loads(text.text), "extra": 1}


def test_a_caller_may_give_the_match_query(reference):
    ids = list(AdminUnit.objects.filter(code__in=["03549", "03562"], valid_to__isnull=True).values_list("id", flat=True))
    match = AdminUnit.objects.filter(pk__in=ids).order_by().values("id").query.sql_with_params()
    data = json.loads(feature_collection(UNITS, match=match))
    assert sorted(f["id"] for f in data["features"]) == sorted(ids)


def test_simplification_keeps_the_geometry_type(reference):
    full = json.loads(feature_collection(UNITS, where="t.code = %s AND t.valid_to IS NULL", params=["03549"]))
    coarse = json.loads(feature_collection(UNITS, where="t.code = %s AND t.valid_to IS NULL", params=["03549"],
                                           tolerance=tolerance_for_zoom(8), precision=3))
    assert coarse["features"][0]["geometry"]["type"] == full["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert len(json.dumps(coarse)) < len(json.dumps(full))


def test_one_feature_or_none(reference):
    unit = AdminUnit.objects.get(level="commune", code="03549", valid_to__isnull=True)
    found = json.loads(feature(UNITS, where="t.id = %s", params=[unit.pk]))
    assert found["type"] == "Feature" and found["id"] == unit.pk and found["properties"]["code"] == "03549"
    assert feature(UNITS, where="t.id = %s", params=[-1]) is None


def test_spatialite_reads_a_spatial_index_only_when_it_is_maintained(reference, monkeypatch):
    box = BBox(103.3, 22.4, 103.4, 22.6)
    if connection.vendor == "postgresql":
        sql, params = layers.bbox_condition(box, geometry="t.boundary", table="geo_adminunit", column="boundary")
        assert "ST_Intersects" in sql and params == [] and "ST_MakeEnvelope(103.3, 22.4, 103.4, 22.6, 4326)" in sql
        return
    key = (connection.settings_dict["NAME"], "geo_adminunit", "boundary")
    monkeypatch.setitem(layers._SPATIALITE_INDEXES, key, False)
    sql, _params = layers.bbox_condition(box, geometry="t.boundary", table="geo_adminunit", column="boundary")
    assert "idx_" not in sql and "Intersects" in sql
    monkeypatch.setitem(layers._SPATIALITE_INDEXES, key, True)
    sql, params = layers.bbox_condition(box, geometry="t.boundary", table="geo_adminunit", column="boundary")
    assert '"idx_geo_adminunit_boundary"' in sql and len(params) == 8


def test_a_box_s_parts_carry_its_numbers_as_the_driver_writes_them():
    # bbox_parts writes its conditions from a text kept per shape (parts_template): each box's own numbers, and
    # its shrunk box's, go where they belong; a box too narrow to shrink has no inner part.
    rng = random.Random(11)
    margin = layers._BOX_MARGIN
    for _ in range(300):
        x0, y0 = rng.uniform(-180, 170), rng.uniform(-90, 80)
        width, height = rng.choice([margin / 3, margin, 0.02, 1.5]), rng.choice([margin / 2, 0.02, 3.0])
        box = BBox(x0, y0, x0 + width, y0 + height)
        (inner, inner_params), (crossing, crossing_params) = layers.bbox_parts(
            box, table="works_work", outer="w", extent="extent", geometry="geometry")
        assert inner_params == crossing_params == []
        n = [layers.sql_number(v) for v in box.values]
        assert crossing.endswith(f"WHERE ST_Intersects(c.g, ST_MakeEnvelope({n[0]}, {n[1]}, {n[2]}, {n[3]}, 4326)))")
        assert crossing.startswith("w.id IN (SELECT c.id FROM (SELECT e.id, e.geometry AS g FROM works_work e WHERE (")
        left, right = layers.sql_number(x0 + margin), layers.sql_number(box.max_lon - margin)
        bottom, top = layers.sql_number(y0 + margin), layers.sql_number(box.max_lat - margin)
        if width > 2 * margin and height > 2 * margin:
            assert inner == f"w.extent <@ box(point({left}, {bottom}), point({right}, {top}))"
            assert f"NOT COALESCE(e.extent <@ box(point({left}, {bottom}), point({right}, {top})), false)" in crossing
        else:
            assert inner == "false" and "NOT COALESCE(false, false)" in crossing
        # The four strips along the inside of its edges (left, right, bottom, top), each _BOX_MARGIN wide at most.
        edges = [layers.sql_number(v) for v in (min(x0 + margin, box.max_lon), max(box.max_lon - margin, x0),
                                                 min(y0 + margin, box.max_lat), max(box.max_lat - margin, y0))]
        strips = [(n[0], n[1], edges[0], n[3]), (edges[1], n[1], n[2], n[3]), (n[0], n[1], n[2], edges[2]),
                  (n[0], edges[3], n[2], n[3])]
        meets = " OR ".join(f"e.extent && box(point({a}, {b}), point({c}, {d}))" for a, b, c, d in strips)
        assert f"WHERE ({meets}) AND NOT COALESCE(" in crossing
    with pytest.raises(ValueError):
        layers.bbox_parts(BBox(1, 1, 2, 2), table="t{0}", outer="w", extent="extent", geometry="geometry")


def test_the_kept_intersects_text_is_bbox_condition_s_and_refuses_braces_as_the_parts_do(monkeypatch):
    monkeypatch.setattr(layers, "on_postgis", lambda: True)
    for box in (BBox(103.2, 22.4, 103.5, 22.7), BBox(-0.5, -1e-7, 2e-6, 0.25)):
        kept = layers.intersects_template('"w"."geometry"').format(*layers.box_numbers(box))
        assert (kept, []) == layers.bbox_condition(box, geometry='"w"."geometry"')
        n = [layers.sql_number(v) for v in box.values]
        assert kept == f'ST_Intersects("w"."geometry", ST_MakeEnvelope({n[0]}, {n[1]}, {n[2]}, {n[3]}, 4326))'
    for name in ("g{0}", "g}"):
        with pytest.raises(ValueError, match="braces"):
            layers.intersects_template(name)


@pytest.fixture
def watched(monkeypatch):
    """Django's cursor() refused: what reads anyway went by the driver's own cursor (fetch_row's lean path)."""
    def refused(*_args, **_kwargs):
        raise AssertionError("Django's cursor")

    return lambda: monkeypatch.setattr(connection, "cursor", refused)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the lean path is PostgreSQL's")
def test_a_row_read_by_the_driver_s_cursor_is_the_row_django_s_cursor_reads(watched, monkeypatch):
    sql = "SELECT %s::text, 'Phong Thổ'::text, now()::timestamptz, 42, NULL::text"
    # A time zone of the connection's own (Django's create_cursor gives it to each cursor), told apart from
    # the driver's default.
    zone = datetime.timezone(datetime.timedelta(hours=7), "ICT")
    monkeypatch.setattr(connection, "tzinfo_factory", lambda _offset: zone)
    with connection.cursor() as cursor:
        cursor.execute(sql, ["ẩm"])
        expected = cursor.fetchone()
    assert expected[2].tzinfo is zone
    with connection.execute_wrapper(lambda execute, *args: execute(*args)):  # watched: Django's cursor
        assert layers.fetch_row(connection, sql, ["ẩm"])[:2] == expected[:2]
    watched()
    row = layers.fetch_row(connection, sql, ["ẩm"])
    assert row[:2] == expected[:2] and row[3:] == (42, None) and row[2].tzinfo is zone
    assert layers.fetch_row(connection, sql, ["ẩm"], as_bytes=True)[:2] == ("ẩm".encode(), "Phong Thổ".encode())
    assert layers.fetch_row(connection, "SELECT 1 WHERE false", []) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the lean path is PostgreSQL's")
def test_the_driver_s_cursor_keeps_django_s_checks_and_errors(watched):
    from django.db import DatabaseError, ProgrammingError, transaction
    from django.db.transaction import TransactionManagementError

    watched()
    with pytest.raises(ProgrammingError):  # the driver's error, raised as Django's
        layers.fetch_row(connection, "SELECT * FROM no_such_table", [])
    assert layers.fetch_row(connection, "SELECT 1", []) == (1,)  # autocommit: nothing left broken
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic(savepoint=False):
            layers.fetch_row(connection, "SELECT 1/0", [])
        with pytest.raises(TransactionManagementError):  # as Django's cursor refuses a broken transaction
            layers.fetch_row(connection, "SELECT 1", [])
        transaction.set_rollback(True)
    connection.close()  # no connection yet: fetch_row opens one, as Django's cursor does
    assert layers.fetch_row(connection, "SELECT 2", []) == (2,)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the lean path is PostgreSQL's")
def test_a_cursor_someone_else_watches_is_used_as_django_makes_it(monkeypatch):
    # A monitoring library that replaces CursorWrapper.execute (or a backend with its own cursors) sees every
    # statement fetch_row runs: the lean path is left for Django's cursor then.
    from django.db.backends.utils import CursorWrapper

    seen = []
    execute = CursorWrapper.execute

    def watching(self, sql, params=None):
        seen.append(sql)
        return execute(self, sql, params)

    assert layers.fetch_row(connection, "SELECT 1", []) == (1,) and seen == []
    monkeypatch.setattr(CursorWrapper, "execute", watching)
    assert layers.fetch_row(connection, "SELECT 2", []) == (2,)
    assert seen == ["SELECT 2"]
    monkeypatch.setattr(CursorWrapper, "execute", execute)
    assert layers._django_s_cursor(connection) and layers._django_s_cursor(connections["default"])
    wrapper = type(connections["default"])
    monkeypatch.setattr(wrapper, "create_cursor", lambda self, name=None: self.connection.cursor())
    # the same answer for django.db.connection (a proxy) and for the wrapper it stands for
    assert not layers._django_s_cursor(connection) and not layers._django_s_cursor(connections["default"])
