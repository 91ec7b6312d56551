"""SpatiaLite's spatial indexes survive Django's table rebuilds (checked after every migrate)."""
from __future__ import annotations

import pytest
from django.db import connection

from gis.spatialite import geometry_columns, spatial_indexes_repair
from tests.factories import WorkFactory

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(connection.vendor != "sqlite", reason="SpatiaLite only")]


def _state(table, column):
    with connection.cursor() as cursor:
        cursor.execute("SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name = %s AND f_geometry_column = %s",
                       [table, column])
        enabled = cursor.fetchone()[0]
        cursor.execute("SELECT CheckSpatialIndex(%s, %s)", [table, column])
        return enabled, cursor.fetchone()[0]


def test_every_geometry_column_has_a_working_index_after_migrate():
    columns = geometry_columns()
    assert ("works_work", "geometry") in columns and ("geo_adminunit", "boundary") in columns
    for table, column in columns:
        assert _state(table, column) == (1, 1), (table, column)


def test_index_follows_new_rows():
    work = WorkFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM idx_works_work_geometry WHERE pkid = %s", [work.pk])
        assert cursor.fetchone()[0] == 1


def test_a_disabled_index_is_rebuilt():
    with connection.cursor() as cursor:
        cursor.execute("SELECT DisableSpatialIndex('works_work', 'geometry')")
    assert _state("works_work", "geometry")[0] == 0
    assert ("works_work", "geometry") in spatial_indexes_repair(connection)
    assert _state("works_work", "geometry") == (1, 1)
