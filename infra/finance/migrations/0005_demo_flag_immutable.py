"""A money row's demo flag is never edited either.

0002 makes allocations and payments immutable in what they say (amount, plan, line, work, dates, what
they reverse), but not in `is_demo`: an UPDATE around the services could turn a real payment into a
demo one (left out of nothing, but labelled as synthetic on the dashboard) or the reverse, and a
reversal's flag away from its original's, which 0004 holds on insert. The immutability functions
(PostgreSQL) and triggers (SQLite) of 0002 are replaced by the same with `is_demo` among the columns.
"""
from django.db import migrations

_ALLOCATION = ("amount", "capital_plan_id", "programme_line_id", "work_id", "reverses_id", "allocated_on")
_PAYMENT = ("amount", "allocation_id", "reverses_id", "paid_on", "voucher_number")


def _pg(table: str, noun: str, columns: tuple[str, ...]) -> str:
    new = ", ".join(f"NEW.{c}" for c in columns)
    old = ", ".join(f"OLD.{c}" for c in columns)
    return f"""
    CREATE OR REPLACE FUNCTION {table}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'money rows are never deleted; record a reversal' USING ERRCODE = 'restrict_violation';
      END IF;
      IF ({new}) IS DISTINCT FROM ({old}) THEN
        RAISE EXCEPTION '{noun} are never edited; record a reversal' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    """


def _sqlite(table: str, noun: str, columns: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return [f"DROP TRIGGER IF EXISTS {table}_immutable", f"""
    CREATE TRIGGER {table}_immutable BEFORE UPDATE OF {", ".join(columns)} ON {table}
    WHEN {changed}
    BEGIN
      SELECT RAISE(ABORT, '{noun} are never edited; record a reversal');
    END;
    """]


def _statements(with_flag: bool) -> dict[str, list[str]]:
    allocation = (*_ALLOCATION, "is_demo") if with_flag else _ALLOCATION
    payment = (*_PAYMENT, "is_demo") if with_flag else _PAYMENT
    return {
        "postgresql": [_pg("finance_allocation", "allocations", allocation), _pg("finance_disbursement", "payments", payment)],
        "sqlite": [*_sqlite("finance_allocation", "allocations", allocation), *_sqlite("finance_disbursement", "payments", payment)],
    }


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [("finance", "0004_reversal_guards")]

    operations = [migrations.RunPython(_run(_statements(True)), _run(_statements(False)))]
