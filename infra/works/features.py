"""Each work's listed Feature, stored as text and kept current by the database (PostGIS).

A page of the map, `/api/works/` or `/ogc/collections/works/items` is then the stored texts of its
works joined together (gis.layers, `Layer.stored`) instead of every feature built again on every
request (docs/benchmarks.md, "OGC API against pygeoapi: where the time goes").

The texts are derived data and only the database writes them: triggers rebuild a work's text in
the same transaction as any change to what the text shows — the work itself, its allocations and
disbursements (the money sums), its maintenance records (the last date), the names and codes of
its communes — whoever makes the change (services, the admin, an import, plain SQL). The SQL that
builds a text is the listed layer's own (`feature_sql`), so stored and built features are the same
document. Migrations run without the triggers (they are dropped before, so a migration may alter or
rename what the texts read); after them the functions and triggers are re-created from the current
code and every text is rebuilt, in one transaction that holds writers off; a flush or an empty
migrate only re-creates them, rebuilding when the SQL changed. `stale()` compares every stored text
with a fresh one (tests, operators); `rebuild()` rebuilds them all.

The same triggers keep how many works there are of each category and stage (`works_workcount`), so
that a page of the whole register, or of some categories or stages, states its exact number matched
without counting the works (infra.works.selectors.works_count). Each statement that adds, removes or
re-stages works appends its changes as rows (+n, -n), and never updates a row, so concurrent writers
never wait for one another there; every few hundred rows a writer folds the rows it can see into one
per category and stage (under READ COMMITTED, Django's level; a stricter writer leaves it to the next). The table belongs to this module, like the triggers: `install` creates it
and fills it from the works; `count_errors()` compares it with the works.

SpatiaLite keeps building features per request; its table stays empty, and it counts.
"""
from __future__ import annotations

import hashlib

from django.db import connections, transaction

from gis.layers import STORED_PRECISION, feature_sql

__all__ = ["COUNTS", "count_errors", "install", "on_post_migrate", "on_pre_migrate", "rebuild", "stale", "uninstall"]

_REFRESH = "works_feature_refresh"
_RECOUNT = "works_count_rebuild"
COUNTS = "works_workcount"
# A writer folds the counts' rows when the id it was given is a multiple of this.
_FOLD_EVERY = 256


def _tables() -> dict[str, str]:
    # The listing's own table names (infra.works.selectors), plus the stored texts'.
    from infra.works.models import WorkFeature
    from infra.works.selectors import ALLOCATIONS, DISBURSEMENTS, RECORDS, UNITS, WORKS

    return {"works": WORKS, "features": WorkFeature._meta.db_table, "units": UNITS, "allocations": ALLOCATIONS,
            "disbursements": DISBURSEMENTS, "records": RECORDS}


def _counts_sql(rows: str) -> str:
    """Return PL/pgSQL appending the changes `rows` (SQL giving category, stage, n) to the counts; it sets
    `fold` when one of the new rows' ids is a multiple of _FOLD_EVERY."""
    return (
        f"WITH appended AS (INSERT INTO {COUNTS} (category, stage, n) SELECT category, stage, sum(n) FROM ({rows}) c "
        f"GROUP BY category, stage HAVING sum(n) <> 0 RETURNING id) "
        f"SELECT COALESCE(bool_or(id % {_FOLD_EVERY} = 0), false) FROM appended INTO fold"
    )


def _built(where: str) -> str:
    """Return a SELECT of (id, feature) for the works `where` (SQL over the works aliased `t`) admits."""
    from infra.works.selectors import works_layer

    layer = works_layer()
    # Layer SQL doubles a literal % for the driver; a function body is not run through it.
    text = feature_sql(layer, precision=STORED_PRECISION).replace("%%", "%")
    joins = layer.joins.replace("%%", "%")
    return f"SELECT t.id, {text} FROM {layer.table} t {joins} WHERE {where}"


_TRIGGERS = {  # table key: trigger names on it
    "works": ("works_feature_insert", "works_feature_update", "works_feature_delete", "works_feature_truncate"),
    "allocations": ("works_feature", "works_feature_truncate"),
    "disbursements": ("works_feature", "works_feature_truncate"),
    "records": ("works_feature", "works_feature_truncate"),
    "units": ("works_feature",),
}


def _statements() -> tuple[str, list[str]]:
    """Return the digest of the feature SQL and the statements creating the functions and triggers."""
    n = _tables()
    upsert = f"INSERT INTO {n['features']} (id, feature) %s ON CONFLICT (id) DO UPDATE SET feature = EXCLUDED.feature"
    # NULL means every work. Given ids are looked up one by one (a semi-join over unnest, not `= ANY`,
    # which would scan the array once per work), so a bulk update of many works stays linear.
    given = "t.id IN (SELECT unnest(ids))"
    body = "; ".join([
        # Two transactions changing the same work (two payments, say) would each build its text
        # without the other's uncommitted change, and the later write would win with a stale sum.
        # So the work's row is locked first (in id order, against deadlocks), and its communes' rows
        # shared (a rename holds them until it commits); the statements after take a new snapshot,
        # which holds every change committed while this one waited.
        f"SELECT count(*) FROM (SELECT 1 FROM {n['works']} t WHERE {given} ORDER BY t.id FOR NO KEY UPDATE) locked",
        f"SELECT count(*) FROM (SELECT 1 FROM {n['units']} u WHERE u.id IN (SELECT unnest(ARRAY[t.current_commune_id, "
        f"t.approved_commune_id]) FROM {n['works']} t WHERE {given}) ORDER BY u.id FOR SHARE) shared",
        upsert % _built("ids IS NULL"),
        upsert % _built(given),
    ])
    # SET search_path FROM CURRENT: the bodies name tables unqualified, and pg_restore empties the path.
    fixed = "SET search_path FROM CURRENT"
    statements = [
        f"CREATE OR REPLACE FUNCTION {_REFRESH}(ids bigint[]) RETURNS void LANGUAGE sql {fixed} AS $body$ {body} $body$",
        f"""CREATE OR REPLACE FUNCTION {_RECOUNT}() RETURNS void LANGUAGE sql {fixed} AS $body$
            DELETE FROM {COUNTS};
            INSERT INTO {COUNTS} (category, stage, n) SELECT category, stage, count(*) FROM {n['works']} GROUP BY 1, 2
            $body$""",
        # Works: statement triggers with the changed rows, so a bulk insert or update is one rebuild.
        # Folding deletes the rows this transaction can see and adds them up again: rows other writers
        # have not committed yet stay as they are, and rows another fold holds are skipped (it adds
        # them up itself), so a fold never waits.
        f"""CREATE OR REPLACE FUNCTION works_feature_on_works() RETURNS trigger LANGUAGE plpgsql {fixed} AS $body$
            DECLARE
              fold boolean;
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM {COUNTS};
                RETURN NULL;
              ELSIF TG_OP = 'DELETE' THEN
                DELETE FROM {n['features']} WHERE id IN (SELECT id FROM gone);
                {_counts_sql("SELECT category, stage, -1 AS n FROM gone")};
              ELSIF TG_OP = 'INSERT' THEN
                PERFORM {_REFRESH}(ARRAY(SELECT id FROM changed));
                {_counts_sql("SELECT category, stage, 1 AS n FROM changed")};
              ELSE
                PERFORM {_REFRESH}(ARRAY(SELECT id FROM changed));
                {_counts_sql("SELECT category, stage, 1 AS n FROM changed UNION ALL "
                             "SELECT category, stage, -1 FROM previous")};
              END IF;
              -- Only under READ COMMITTED (Django's level): a stricter transaction could not delete rows
              -- another fold deleted since it began. Skipping a fold loses nothing: it only tidies.
              IF fold AND current_setting('transaction_isolation') = 'read committed' THEN
                WITH folded AS (DELETE FROM {COUNTS} WHERE id IN (SELECT id FROM {COUNTS} FOR UPDATE SKIP LOCKED)
                                RETURNING category, stage, n)
                INSERT INTO {COUNTS} (category, stage, n)
                SELECT category, stage, sum(n) FROM folded GROUP BY 1, 2 HAVING sum(n) <> 0;
              END IF;
              RETURN NULL;
            END $body$""",
        f"""CREATE OR REPLACE FUNCTION works_feature_on_money() RETURNS trigger LANGUAGE plpgsql {fixed} AS $body$
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN
                PERFORM {_REFRESH}(NULL);
              ELSIF TG_TABLE_NAME = '{n['disbursements']}' THEN
                PERFORM {_REFRESH}(ARRAY(SELECT work_id FROM {n['allocations']}
                                         WHERE work_id IS NOT NULL AND id IN (NEW.allocation_id, OLD.allocation_id)));
              ELSE
                PERFORM {_REFRESH}(ARRAY(SELECT w FROM unnest(ARRAY[NEW.work_id, OLD.work_id]) w WHERE w IS NOT NULL));
              END IF;
              RETURN NULL;
            END $body$""",
        # The columns compared here, not in the trigger's definition, so that a migration may alter them.
        f"""CREATE OR REPLACE FUNCTION works_feature_on_units() RETURNS trigger LANGUAGE plpgsql {fixed} AS $body$
            BEGIN
              IF OLD.name IS DISTINCT FROM NEW.name OR OLD.code IS DISTINCT FROM NEW.code THEN
                PERFORM {_REFRESH}(ARRAY(SELECT id FROM {n['works']}
                                         WHERE current_commune_id = NEW.id OR approved_commune_id = NEW.id));
              END IF;
              RETURN NULL;
            END $body$""",
        f"CREATE OR REPLACE TRIGGER works_feature_insert AFTER INSERT ON {n['works']} "
        "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION works_feature_on_works()",
        f"CREATE OR REPLACE TRIGGER works_feature_update AFTER UPDATE ON {n['works']} "
        "REFERENCING OLD TABLE AS previous NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION works_feature_on_works()",
        # Django deletes the text first; plain SQL may not (the foreign key is checked at commit).
        f"CREATE OR REPLACE TRIGGER works_feature_delete AFTER DELETE ON {n['works']} "
        "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION works_feature_on_works()",
        f"CREATE OR REPLACE TRIGGER works_feature_truncate AFTER TRUNCATE ON {n['works']} "
        "FOR EACH STATEMENT EXECUTE FUNCTION works_feature_on_works()",
    ]
    for table in ("allocations", "disbursements", "records"):
        statements += [
            f"CREATE OR REPLACE TRIGGER works_feature AFTER INSERT OR UPDATE OR DELETE ON {n[table]} "
            "FOR EACH ROW EXECUTE FUNCTION works_feature_on_money()",
            f"CREATE OR REPLACE TRIGGER works_feature_truncate AFTER TRUNCATE ON {n[table]} "
            "FOR EACH STATEMENT EXECUTE FUNCTION works_feature_on_money()",
        ]
    statements.append(f"CREATE OR REPLACE TRIGGER works_feature AFTER UPDATE ON {n['units']} FOR EACH ROW "
                      "EXECUTE FUNCTION works_feature_on_units()")
    digest = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
    return digest, statements


def _stamp(digest: str) -> str:
    return f"COMMENT ON FUNCTION {_REFRESH}(bigint[]) IS 'infra.works.features {digest}'"


def _exists(cursor, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
    return cursor.fetchone()[0]


def _lock_and_rebuild(cursor) -> None:
    """Rebuild every text in the caller's transaction. Writers' triggers wait for it (they write to the
    table this locks) and then rebuild their own works, so no text ends older than its work; readers
    keep reading the texts before until it commits."""
    n = _tables()
    cursor.execute(f"LOCK TABLE {n['features']}, {COUNTS} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"DELETE FROM {n['features']}")
    cursor.execute(f"SELECT {_REFRESH}(NULL)")
    cursor.execute(f"SELECT {_RECOUNT}()")


def uninstall(connection) -> None:
    """Drop the triggers (the functions stay until the next install); nothing off PostGIS."""
    if connection.vendor != "postgresql":
        return
    n = _tables()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for key, names in _TRIGGERS.items():
            if _exists(cursor, n[key]):
                for name in names:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {n[key]}")


def install(connection, *, rebuild_all: bool = False) -> bool:
    """Create or update the functions and triggers, in one transaction with the rebuild of every text
    when the feature SQL changed (or `rebuild_all`). Returns whether the texts were rebuilt.

    Nothing off PostGIS. Without the stored table (migrated back before it), the triggers are dropped.
    """
    if connection.vendor != "postgresql":
        return False
    n = _tables()
    digest, statements = _statements()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if not all(_exists(cursor, table) for table in n.values()):
            uninstall(connection)
            return False
        cursor.execute("SELECT obj_description(to_regprocedure(%s), 'pg_proc')", [f"{_REFRESH}(bigint[])"])
        row = cursor.fetchone()
        rebuild_all = rebuild_all or not row or row[0] != f"infra.works.features {digest}"
        if not _exists(cursor, COUNTS):
            cursor.execute(f"CREATE TABLE {COUNTS} (id bigserial PRIMARY KEY, category text NOT NULL, "
                           "stage text NOT NULL, n bigint NOT NULL)")
            rebuild_all = True
        # CREATE TRIGGER locks each table against writes until this transaction ends.
        for statement in statements:
            cursor.execute(statement)
        if rebuild_all:
            _lock_and_rebuild(cursor)
        # Stamped last, in the same transaction: a rebuild that fails is tried again next time.
        cursor.execute(_stamp(digest))
    return rebuild_all


def rebuild(connection=None) -> int:
    """Rebuild every stored text (after a bulk load with triggers off, say); return how many there are."""
    connection = connection or connections["default"]
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _lock_and_rebuild(cursor)
        cursor.execute(f"SELECT count(*) FROM {_tables()['features']}")
        return cursor.fetchone()[0]


def stale(connection=None) -> list[int]:
    """Return the ids of works whose stored text is missing or differs from a fresh one (PostGIS)."""
    connection = connection or connections["default"]
    if connection.vendor != "postgresql":
        return []
    n = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT b.id FROM ({_built('true')}) AS b(id, feature) "
            f"LEFT JOIN {n['features']} s ON s.id = b.id WHERE s.feature IS DISTINCT FROM b.feature "
            f"UNION SELECT s.id FROM {n['features']} s WHERE NOT EXISTS (SELECT 1 FROM {n['works']} w WHERE w.id = s.id) "
            "ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def count_errors(connection=None) -> list[tuple[str, str, int, int]]:
    """Return (category, stage, kept, counted) wherever the kept counts differ from the works (PostGIS)."""
    connection = connection or connections["default"]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT category, stage, COALESCE(k.n, 0), COALESCE(w.n, 0) "
            f"FROM (SELECT category, stage, sum(n) AS n FROM {COUNTS} GROUP BY 1, 2) k "
            f"FULL JOIN (SELECT category, stage, count(*) AS n FROM {_tables()['works']} GROUP BY 1, 2) w "
            "USING (category, stage) WHERE COALESCE(k.n, 0) <> COALESCE(w.n, 0) ORDER BY 1, 2"
        )
        return [tuple(row) for row in cursor.fetchall()]


def on_pre_migrate(sender, using="default", plan=None, **kwargs) -> None:
    # Migrations run without the triggers: their functions read columns a migration may rename or drop.
    if sender.label == "works" and plan:
        uninstall(connections[using])


def on_post_migrate(sender, using="default", plan=None, **kwargs) -> None:
    if sender.label != "works":
        return
    # After migrations (which ran without the triggers), every text is rebuilt; a flush or an empty plan
    # only re-creates what is missing.
    install(connections[using], rebuild_all=bool(plan))
