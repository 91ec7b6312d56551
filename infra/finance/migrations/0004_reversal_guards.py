"""The database holds a reversal to what it reverses, as the services write it.

The services copy into a reversal the plan, programme line, work and demo flag of the allocation it
reverses, and the demo flag of the payment it reverses; the guards of 0002 checked only the plan (and
the allocation of a payment). A reversal written around the services on another work or line, or with
another demo flag, would count against one row in the reconciliation (which follows the row reversed)
and another on the map, in exports and on a work's page (which follow the reversal's own row). The
guard functions (PostgreSQL) and triggers (SQLite) of 0002 are replaced by the same with these checks.
"""
import importlib

from django.db import migrations

guards = importlib.import_module("infra.finance.migrations.0002_money_guards")

_ALLOCATION_PG = ("IF original.reverses_id IS NOT NULL OR original.capital_plan_id <> NEW.capital_plan_id THEN",
                  "IF original.reverses_id IS NOT NULL OR original.capital_plan_id <> NEW.capital_plan_id\n"
                  "           OR original.programme_line_id IS DISTINCT FROM NEW.programme_line_id\n"
                  "           OR original.work_id IS DISTINCT FROM NEW.work_id OR original.is_demo <> NEW.is_demo THEN")
_ALLOCATION_SQLITE = ("AND (o.reverses_id IS NOT NULL OR o.capital_plan_id <> NEW.capital_plan_id));",
                      "AND (o.reverses_id IS NOT NULL OR o.capital_plan_id <> NEW.capital_plan_id\n"
                      "            OR o.programme_line_id IS NOT NEW.programme_line_id OR o.work_id IS NOT NEW.work_id\n"
                      "            OR o.is_demo <> NEW.is_demo));")
_PAYMENT_PG = ("IF original.reverses_id IS NOT NULL OR original.allocation_id <> NEW.allocation_id",
               "IF original.reverses_id IS NOT NULL OR original.allocation_id <> NEW.allocation_id\n"
               "           OR original.is_demo <> NEW.is_demo")
_PAYMENT_SQLITE = ("OR o.allocation_id <> NEW.allocation_id OR o.amount <> NEW.amount))",
                   "OR o.allocation_id <> NEW.allocation_id OR o.amount <> NEW.amount\n"
                   "                       OR o.is_demo <> NEW.is_demo))")


def _changed(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise RuntimeError(f"0002's guard no longer reads as expected: {old!r}")
    return text.replace(old, new)


def _function(statement: str) -> str:
    """The CREATE OR REPLACE FUNCTION of a 0002 statement, without the CREATE TRIGGER that follows it."""
    return statement[:statement.index("CREATE TRIGGER")]


POSTGRES = [_changed(_function(guards.POSTGRES[0]), *_ALLOCATION_PG),
            _changed(_function(guards.POSTGRES[1]), *_PAYMENT_PG)]
POSTGRES_REVERSE = [_function(guards.POSTGRES[0]), _function(guards.POSTGRES[1])]
SQLITE = ["DROP TRIGGER IF EXISTS finance_allocation_guard", _changed(guards.SQLITE[0], *_ALLOCATION_SQLITE),
          "DROP TRIGGER IF EXISTS finance_disbursement_guard", _changed(guards.SQLITE[1], *_PAYMENT_SQLITE)]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS finance_allocation_guard", guards.SQLITE[0],
                  "DROP TRIGGER IF EXISTS finance_disbursement_guard", guards.SQLITE[1]]


class Migration(migrations.Migration):
    dependencies = [("finance", "0003_dates_1900_2100")]

    operations = [
        migrations.RunPython(
            guards._run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            guards._run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
