"""On PostgreSQL, each work's name and code as search folds them (gis.textsearch), kept by the database in
generated columns, each with a trigram index: a search of the register (`?q=`) reads the works whose
folded text holds the searched text from an index, and where the index cannot help (one or two
letters) compares stored text instead of folding every name again (docs/benchmarks.md, search).

The columns are the database's own, as the extent is (works 0006): the model does not list them, and
gis.textsearch.Stored names them in statements. SpatiaLite has neither: there a search folds every
row, which is quick at a district's size.
"""
from django.db import migrations

COLUMNS = {"search_name": "name", "search_code": "code"}


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    added = ", ".join(f"ADD COLUMN {column} text GENERATED ALWAYS AS (search_fold({source})) STORED"
                      for column, source in COLUMNS.items())
    schema_editor.execute(f"ALTER TABLE works_work {added}")
    for column in COLUMNS:
        schema_editor.execute(f"CREATE INDEX work_{column} ON works_work USING gin ({column} gin_trgm_ops)")


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    dropped = ", ".join(f"DROP COLUMN IF EXISTS {column}" for column in COLUMNS)  # their indexes go with them
    schema_editor.execute(f"ALTER TABLE works_work {dropped}")


class Migration(migrations.Migration):

    dependencies = [
        ("works", "0006_work_extent"),
        ("geo", "0003_search_fold_immutable"),
    ]

    operations = [
        migrations.RunPython(add, remove),
    ]
