"""On PostgreSQL, `search_fold(text)`: text without case or Vietnamese marks, for free-text search
(gis.textsearch). Made from the `unaccent` extension, created here if missing (it is trusted: the
database's owner may create it). Created STABLE, as unaccent is; geo 0003 declares it IMMUTABLE,
so that it can be indexed.

SQLite/SpatiaLite gets the same function from Python on every connection (gis.apps).
"""
from django.db import migrations

FUNCTION = "search_fold"


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        # Named with its schema, so that neither a restore (empty search_path) nor a session's own path loses it.
        cursor.execute("SELECT quote_ident(nspname), quote_literal(quote_ident(nspname) || '.unaccent') "
                       "FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace WHERE extname = 'unaccent'")
        schema, dictionary = cursor.fetchone()
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE "
        f"AS $$ SELECT lower({schema}.unaccent({dictionary}::regdictionary, $1)) $$"
    )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)")  # the extension stays: others may use it


class Migration(migrations.Migration):

    dependencies = [
        ("geo", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add, remove),
    ]
