"""bench/national.py: the national synthetic dataset at a tiny scale, loaded into the test database."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db import connection, transaction

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the national dataset is loaded with PostgreSQL's COPY"),
]

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCALE = 0.001  # 1 province, 10 communes, 100 villages, 1,000 road segments, 1,000 works


@pytest.fixture(scope="module")
def national():
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))  # bench/ is not a package; appended, so it shadows nothing
    return importlib.import_module("national")


@pytest.fixture(scope="module")
def dataset(national):
    return national.build(SCALE)


@pytest.fixture
def loaded(national, dataset):
    with connection.cursor() as cursor:
        national.load(cursor, dataset)
    return dataset


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.parametrize("scale", [0.001, 0.002])
def test_sizes_follow_the_scale(national, scale):
    data = national.build(scale)

    assert data.counts == {"provinces": 1, "communes": round(10_000 * scale), "villages": round(100_000 * scale),
                           "roads": round(1_000_000 * scale), "works": round(1_000_000 * scale)}
    assert len(data.units["code"]) == 1 + data.counts["communes"]
    assert len(data.villages["code"]) == data.counts["villages"] and len(data.roads["code"]) == data.counts["roads"]
    kinds = [g.geom_type if g is not None else "Point" for g in data.works["shape"]]
    works = data.counts["works"]
    assert {k: kinds.count(k) for k in set(kinds)} == {"Point": works * 80 // 100, "LineString": works * 15 // 100,
                                                       "Polygon": works * 5 // 100}


def _loaded_digests(national, data) -> dict[str, str]:
    with transaction.atomic(), connection.cursor() as cursor:
        national.load(cursor, data)
        found = national.digests(cursor)
        transaction.set_rollback(True)
    return found


def test_the_same_seed_gives_the_same_rows(national, dataset):
    first = _loaded_digests(national, dataset)
    again = _loaded_digests(national, national.build(SCALE))
    other = _loaded_digests(national, national.build(SCALE, seed=national.SEED + 1))

    assert first == again and None not in first.values()
    assert all(first[table] != other[table] for table in first)


def test_communes_tile_their_province_and_hold_their_villages_and_works(loaded):
    # given the dataset loaded beside whatever the test database holds, the rows to check are the generated ones
    communes = "SELECT id, boundary, parent_id FROM geo_adminunit WHERE level = 'commune' AND code LIKE 'NAT%%'"

    # then
    assert _rows(f"""
        SELECT count(*), count(*) FILTER (WHERE c.valid_from = '2025-07-01' AND c.valid_to IS NULL),
               count(*) FILTER (WHERE ST_Covers(p.boundary, c.boundary)), count(*) FILTER (WHERE ST_Covers(c.boundary, c.centre))
        FROM geo_adminunit c JOIN geo_adminunit p ON p.id = c.parent_id AND p.level = 'province'
        WHERE c.id IN (SELECT id FROM ({communes}) x)""") == [(10, 10, 10, 10)]
    assert _rows(f"SELECT count(*) FROM ({communes}) a JOIN ({communes}) b ON a.id < b.id "
                 "AND ST_Overlaps(a.boundary, b.boundary)") == [(0,)]
    [(provinces, communes_area)] = _rows(f"SELECT sum(ST_Area(p.boundary)), (SELECT sum(ST_Area(boundary)) FROM ({communes}) x) "
                                         "FROM geo_adminunit p WHERE p.level = 'province' AND p.code LIKE 'NAT%%'")
    assert communes_area == pytest.approx(provinces, rel=1e-9)
    assert _rows(f"""SELECT count(*), count(*) FILTER (WHERE ST_Covers(c.boundary, v.location))
                     FROM geo_village v JOIN ({communes}) c ON c.id = v.commune_id""") == [(100, 100)]
    assert _rows(f"""SELECT count(*), count(*) FILTER (WHERE ST_Covers(c.boundary, w.geometry)),
                            count(*) FILTER (WHERE w.stage IN ('proposed', 'cancelled'))
                     FROM works_work w JOIN ({communes}) c ON c.id = w.current_commune_id""") == [(1000, 1000, 0)]


def test_the_roads_join_villages_to_their_centres_but_not_all(loaded):
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    from infra.network.models import LinkStatus, VillageResult
    from infra.network.services import run_compute

    # the segments: 1,000 two-point lines meeting at shared grid nodes
    ends = np.array(_rows("SELECT ST_X(ST_StartPoint(g)), ST_Y(ST_StartPoint(g)), ST_X(ST_EndPoint(g)), ST_Y(ST_EndPoint(g)) "
                          "FROM (SELECT (ST_Dump(geometry)).geom AS g FROM geo_baseroad WHERE code LIKE 'NAT%%') x"))
    nodes, node_of = np.unique(ends.reshape(-1, 2), axis=0, return_inverse=True)
    node_of = node_of.reshape(-1, 2)
    count, label = connected_components(coo_array((np.ones(len(ends)), (node_of[:, 0], node_of[:, 1])),
                                                  shape=(len(nodes), len(nodes))), directed=False)
    assert len(ends) == 1000 and len(nodes) < 1000  # a network, not loose segments
    assert 1 < count and np.bincount(label).max() > len(nodes) / 2  # one main piece, and some cut off

    # when the app computes connectivity (what `manage.py connectivity` runs)
    run_compute()
    results = VillageResult.objects.filter(village__code__startswith="NAT")

    # then every village is judged, and most but not all reach their commune centre
    assert results.count() == 100
    assert 50 < results.exclude(status=LinkStatus.NONE).count() < 100


@pytest.mark.parametrize("collection, count", [("communes", 10), ("villages", 100), ("roads", 1000), ("works", 1000)])
def test_the_ogc_collections_serve_it(client, loaded, collection, count):
    west, south, east, north = loaded.bbox
    bbox = f"{west - 0.01:.4f},{south - 0.01:.4f},{east + 0.01:.4f},{north + 0.01:.4f}"

    response = client.get(f"/ogc/collections/{collection}/items?bbox={bbox}&limit=5")

    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["numberMatched"] == count and len(data["features"]) == 5
    assert all(f["properties"]["code"].startswith("NAT") for f in data["features"])
