"""Keep SpatiaLite's spatial indexes alive.

Django rebuilds a SQLite table to alter it (a new constraint, a changed field); the rebuilt table's
R*Tree index is left empty and SpatiaLite marks it unusable, so bbox queries fall back to a full
scan. After every migrate, each geometry column's index is checked and rebuilt where needed.
"""
from __future__ import annotations

from django.apps import apps
from django.contrib.gis.db.models import GeometryField
from django.db import connections

__all__ = ["geometry_columns", "on_post_migrate", "spatial_indexes_repair"]


def geometry_columns() -> list[tuple[str, str]]:
    """Return (table, column) for every indexed geometry field of every installed model."""
    columns = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            if isinstance(field, GeometryField) and field.spatial_index:
                columns.append((model._meta.db_table, field.column))
    return sorted(set(columns))


def spatial_indexes_repair(connection) -> list[tuple[str, str]]:
    """Create or recover the spatial index of every geometry column that needs it; return those fixed."""
    if connection.vendor != "sqlite":
        return []
    existing = set(connection.introspection.table_names())
    fixed = []
    with connection.cursor() as cursor:
        for table, column in geometry_columns():
            if table not in existing:
                continue
            cursor.execute("SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name = %s AND f_geometry_column = %s",
                           [table.lower(), column.lower()])
            row = cursor.fetchone()
            if row is None:
                continue  # not a registered geometry column (should not happen)
            if not row[0]:
                # The rebuilt table lost its sync triggers; drop the stale R*Tree and build it anew.
                cursor.execute(f'DROP TABLE IF EXISTS "idx_{table}_{column}"')
                cursor.execute("SELECT CreateSpatialIndex(%s, %s)", [table, column])
            cursor.execute("SELECT CheckSpatialIndex(%s, %s)", [table, column])
            healthy = cursor.fetchone()[0]
            if healthy != 1 or not row[0]:
                cursor.execute("SELECT RecoverSpatialIndex(%s, %s)", [table, column])
                fixed.append((table, column))
    return fixed


def on_post_migrate(sender, using="default", **kwargs) -> None:
    if sender.label != "geo":
        return
    spatial_indexes_repair(connections[using])
