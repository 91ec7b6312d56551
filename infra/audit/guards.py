"""Make the history and audit tables, and the records kept as they were made, append-only in the database.

On PostgreSQL every UPDATE and DELETE on them is refused by a trigger (TRUNCATE, which only an
operator or the test runner's flush uses, is not a row change). On SQLite UPDATE is refused;
DELETE stays open because Django's test flush empties tables with it — there, verify_audit is
what catches a removed row.

Installed after every migrate, so a history table added later is guarded too.
"""
from __future__ import annotations

from django.apps import apps
from django.db import connections

from infra.audit.chain import KEPT_RECORDS

__all__ = ["guarded_tables", "install_guards", "on_post_migrate"]

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
"""


def guarded_tables() -> list[str]:
    """Return the audit table, every django-simple-history table and the tables of records kept as they were made
    (chain.KEPT_RECORDS)."""
    tables = [apps.get_model("audit", "AuditEntry")._meta.db_table]
    tables += [apps.get_model(label)._meta.db_table for label in KEPT_RECORDS]
    for model in apps.get_models():
        if getattr(model, "_meta", None) and hasattr(model, "instance_type") and model.__name__.startswith("Historical"):
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def install_guards(connection) -> list[str]:
    """Create the append-only triggers where they are missing; return the tables guarded."""
    existing = set(connection.introspection.table_names())
    tables = [t for t in guarded_tables() if t in existing]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for table in tables:
                cursor.execute(
                    f'CREATE OR REPLACE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
                    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
                )
        elif connection.vendor == "sqlite":
            for table in tables:
                cursor.execute(
                    f'CREATE TRIGGER IF NOT EXISTS "{table}_append_only" BEFORE UPDATE ON "{table}" '
                    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: UPDATE on {table} refused'); END"
                )
    return tables


def on_post_migrate(sender, using="default", **kwargs) -> None:
    if sender.label != "audit":
        return
    install_guards(connections[using])
