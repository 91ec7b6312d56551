"""On PostgreSQL, `search_fold(text)` made IMMUTABLE, so that a table may keep a column's folded text in a
generated column with a trigram index (works 0007), and the `pg_trgm` extension such indexes need
(trusted, as `unaccent` is: the database's owner may create it).

unaccent itself is STABLE only because a dictionary named by text could resolve differently from one
session to the next; ours is named with its schema (geo 0002). Its rules file changes only with the
server's packages: after an upgrade that changes `unaccent.rules`, rebuild the stored folded texts
with `manage.py migrate works 0006` then `manage.py migrate` (docs/operator-guide.md). An IMMUTABLE SQL function whose body
is STABLE is not inlined, and called as a function a PL/pgSQL body is the cheaper (1,000,000 names
folded in a scan: SQL inlined 0.75 s, SQL called 2.2 s, PL/pgSQL called 1.0 s, on this project's
machine), hence the language.
"""
from django.db import migrations

FUNCTION = "search_fold"


def _unaccent(schema_editor) -> tuple[str, str]:
    """The unaccent extension's schema and its dictionary's name as a literal, both quoted (geo 0002)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(nspname), quote_literal(quote_ident(nspname) || '.unaccent') "
                       "FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace WHERE extname = 'unaccent'")
        return cursor.fetchone()


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema, dictionary = _unaccent(schema_editor)
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE "
        f"AS $$ BEGIN RETURN lower({schema}.unaccent({dictionary}::regdictionary, $1)); END $$"
    )


def remove(apps, schema_editor):  # back to geo 0002's function; pg_trgm stays: others may use it
    if schema_editor.connection.vendor != "postgresql":
        return
    schema, dictionary = _unaccent(schema_editor)
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE "
        f"AS $$ SELECT lower({schema}.unaccent({dictionary}::regdictionary, $1)) $$"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("geo", "0002_search_folding"),
    ]

    operations = [
        migrations.RunPython(add, remove),
    ]
