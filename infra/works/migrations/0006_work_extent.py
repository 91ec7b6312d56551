"""On PostGIS, each work's bounding box as a plain PostgreSQL `box`, kept by the database, with a GiST index
holding the id and stage too, so that counting the works in a box reads the index alone (gis.layers.bbox_parts).

SpatiaLite has no such column: its box queries use its R*Tree as before.
"""
from django.db import migrations

COLUMN = "extent"
INDEX = "work_extent"


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE works_work ADD COLUMN {COLUMN} box GENERATED ALWAYS AS (box(geometry)) STORED"
    )
    schema_editor.execute(f"CREATE INDEX {INDEX} ON works_work USING gist ({COLUMN}) INCLUDE (id, stage)")


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE works_work DROP COLUMN IF EXISTS {COLUMN}")  # drops the index with it


class Migration(migrations.Migration):

    dependencies = [
        ("works", "0005_stored_features_public_index"),
    ]

    operations = [
        migrations.RunPython(add, remove),
    ]
