"""Database guards for the money rules, so that no path around the services can break them.

- the allocations of a capital plan (net of reversals) never exceed its amount;
- the payments of an allocation (net of reversals) never exceed what it holds after reversals;
- a reversal stays on the plan / allocation of the row it reverses, and is never itself reversed;
- money rows are never edited (a correction is a reversal); on PostgreSQL never deleted either.
  (SQLite keeps DELETE open because Django's test flush empties tables with DELETE.)
"""
from django.db import migrations

_NET_ALLOCATED = (
    "(SELECT COALESCE(SUM(CASE WHEN a.reverses_id IS NULL THEN a.amount ELSE -a.amount END), 0) "
    "FROM finance_allocation a WHERE a.capital_plan_id = {plan})"
)
# What an original allocation holds after its reversals, and what was paid from it net of reversals.
_HOLDS = "((SELECT amount FROM finance_allocation WHERE id = {alloc}) - " \
         "(SELECT COALESCE(SUM(amount), 0) FROM finance_allocation WHERE reverses_id = {alloc}))"
_PAID = ("(SELECT COALESCE(SUM(CASE WHEN d.reverses_id IS NULL THEN d.amount ELSE -d.amount END), 0) "
         "FROM finance_disbursement d WHERE d.allocation_id = {alloc})")

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION finance_allocation_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE original finance_allocation%ROWTYPE;
    BEGIN
      -- Serialise writers per plan, so two allocations cannot both pass the ceiling.
      PERFORM 1 FROM finance_capitalplan WHERE id = NEW.capital_plan_id FOR UPDATE;
      IF NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM finance_allocation WHERE id = NEW.reverses_id;
        IF original.reverses_id IS NOT NULL OR original.capital_plan_id <> NEW.capital_plan_id THEN
          RAISE EXCEPTION 'allocation reversal must point at an original allocation of the same plan'
            USING ERRCODE = 'check_violation';
        END IF;
        IF {_PAID.format(alloc='NEW.reverses_id')} > {_HOLDS.format(alloc='NEW.reverses_id')} THEN
          RAISE EXCEPTION 'allocation reversal takes back money already paid' USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      IF {_NET_ALLOCATED.format(plan='NEW.capital_plan_id')} >
         (SELECT amount FROM finance_capitalplan WHERE id = NEW.capital_plan_id) THEN
        RAISE EXCEPTION 'allocations exceed capital plan %', NEW.capital_plan_id USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER finance_allocation_guard AFTER INSERT ON finance_allocation
      FOR EACH ROW EXECUTE FUNCTION finance_allocation_guard();
    """,
    f"""
    CREATE OR REPLACE FUNCTION finance_disbursement_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE original finance_disbursement%ROWTYPE;
    BEGIN
      PERFORM 1 FROM finance_allocation WHERE id = NEW.allocation_id FOR UPDATE;
      IF (SELECT reverses_id FROM finance_allocation WHERE id = NEW.allocation_id) IS NOT NULL THEN
        RAISE EXCEPTION 'payments go against an original allocation' USING ERRCODE = 'check_violation';
      END IF;
      IF NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM finance_disbursement WHERE id = NEW.reverses_id;
        IF original.reverses_id IS NOT NULL OR original.allocation_id <> NEW.allocation_id
           OR (SELECT COUNT(*) FROM finance_disbursement WHERE reverses_id = NEW.reverses_id) > 1
           OR NEW.amount <> original.amount THEN
          RAISE EXCEPTION 'a payment reversal cancels one original payment of the same allocation, once, in full'
            USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      IF {_PAID.format(alloc='NEW.allocation_id')} > {_HOLDS.format(alloc='NEW.allocation_id')} THEN
        RAISE EXCEPTION 'payments exceed allocation %', NEW.allocation_id USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER finance_disbursement_guard AFTER INSERT ON finance_disbursement
      FOR EACH ROW EXECUTE FUNCTION finance_disbursement_guard();
    """,
    """
    CREATE OR REPLACE FUNCTION finance_allocation_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'money rows are never deleted; record a reversal' USING ERRCODE = 'restrict_violation';
      END IF;
      IF (NEW.amount, NEW.capital_plan_id, NEW.programme_line_id, NEW.work_id, NEW.reverses_id, NEW.allocated_on)
         IS DISTINCT FROM
         (OLD.amount, OLD.capital_plan_id, OLD.programme_line_id, OLD.work_id, OLD.reverses_id, OLD.allocated_on) THEN
        RAISE EXCEPTION 'allocations are never edited; record a reversal' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER finance_allocation_immutable BEFORE UPDATE OR DELETE ON finance_allocation
      FOR EACH ROW EXECUTE FUNCTION finance_allocation_immutable();
    CREATE OR REPLACE FUNCTION finance_disbursement_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'money rows are never deleted; record a reversal' USING ERRCODE = 'restrict_violation';
      END IF;
      IF (NEW.amount, NEW.allocation_id, NEW.reverses_id, NEW.paid_on, NEW.voucher_number)
         IS DISTINCT FROM (OLD.amount, OLD.allocation_id, OLD.reverses_id, OLD.paid_on, OLD.voucher_number) THEN
        RAISE EXCEPTION 'payments are never edited; record a reversal' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER finance_disbursement_immutable BEFORE UPDATE OR DELETE ON finance_disbursement
      FOR EACH ROW EXECUTE FUNCTION finance_disbursement_immutable();
    """,
    f"""
    CREATE OR REPLACE FUNCTION finance_capitalplan_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.amount < {_NET_ALLOCATED.format(plan='NEW.id')} THEN
        RAISE EXCEPTION 'capital plan amount below what is already allocated' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER finance_capitalplan_guard BEFORE UPDATE OF amount ON finance_capitalplan
      FOR EACH ROW EXECUTE FUNCTION finance_capitalplan_guard();
    """,
]

POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS finance_allocation_guard ON finance_allocation; DROP FUNCTION IF EXISTS finance_allocation_guard();",
    "DROP TRIGGER IF EXISTS finance_disbursement_guard ON finance_disbursement; DROP FUNCTION IF EXISTS finance_disbursement_guard();",
    "DROP TRIGGER IF EXISTS finance_allocation_immutable ON finance_allocation; "
    "DROP TRIGGER IF EXISTS finance_disbursement_immutable ON finance_disbursement; "
    "DROP FUNCTION IF EXISTS finance_allocation_immutable(); DROP FUNCTION IF EXISTS finance_disbursement_immutable();",
    "DROP TRIGGER IF EXISTS finance_capitalplan_guard ON finance_capitalplan; DROP FUNCTION IF EXISTS finance_capitalplan_guard();",
]

SQLITE = [
    f"""
    CREATE TRIGGER finance_allocation_guard AFTER INSERT ON finance_allocation
    BEGIN
      SELECT RAISE(ABORT, 'allocation reversal must point at an original allocation of the same plan')
        WHERE NEW.reverses_id IS NOT NULL AND EXISTS (SELECT 1 FROM finance_allocation o WHERE o.id = NEW.reverses_id
          AND (o.reverses_id IS NOT NULL OR o.capital_plan_id <> NEW.capital_plan_id));
      SELECT RAISE(ABORT, 'allocation reversal takes back money already paid')
        WHERE NEW.reverses_id IS NOT NULL AND {_PAID.format(alloc='NEW.reverses_id')} > {_HOLDS.format(alloc='NEW.reverses_id')};
      SELECT RAISE(ABORT, 'allocations exceed capital plan')
        WHERE {_NET_ALLOCATED.format(plan='NEW.capital_plan_id')} > (SELECT amount FROM finance_capitalplan WHERE id = NEW.capital_plan_id);
    END;
    """,
    f"""
    CREATE TRIGGER finance_disbursement_guard AFTER INSERT ON finance_disbursement
    BEGIN
      SELECT RAISE(ABORT, 'payments go against an original allocation')
        WHERE (SELECT reverses_id FROM finance_allocation WHERE id = NEW.allocation_id) IS NOT NULL;
      SELECT RAISE(ABORT, 'a payment reversal cancels one original payment of the same allocation, once, in full')
        WHERE NEW.reverses_id IS NOT NULL AND (
          EXISTS (SELECT 1 FROM finance_disbursement o WHERE o.id = NEW.reverses_id
                  AND (o.reverses_id IS NOT NULL OR o.allocation_id <> NEW.allocation_id OR o.amount <> NEW.amount))
          OR (SELECT COUNT(*) FROM finance_disbursement WHERE reverses_id = NEW.reverses_id) > 1);
      SELECT RAISE(ABORT, 'payments exceed allocation')
        WHERE {_PAID.format(alloc='NEW.allocation_id')} > {_HOLDS.format(alloc='NEW.allocation_id')};
    END;
    """,
    """
    CREATE TRIGGER finance_allocation_immutable BEFORE UPDATE OF amount, capital_plan_id, programme_line_id, work_id,
      reverses_id, allocated_on ON finance_allocation
    WHEN NEW.amount IS NOT OLD.amount OR NEW.capital_plan_id IS NOT OLD.capital_plan_id
      OR NEW.programme_line_id IS NOT OLD.programme_line_id OR NEW.work_id IS NOT OLD.work_id
      OR NEW.reverses_id IS NOT OLD.reverses_id OR NEW.allocated_on IS NOT OLD.allocated_on
    BEGIN
      SELECT RAISE(ABORT, 'allocations are never edited; record a reversal');
    END;
    """,
    """
    CREATE TRIGGER finance_disbursement_immutable BEFORE UPDATE OF amount, allocation_id, reverses_id, paid_on,
      voucher_number ON finance_disbursement
    WHEN NEW.amount IS NOT OLD.amount OR NEW.allocation_id IS NOT OLD.allocation_id OR NEW.reverses_id IS NOT OLD.reverses_id
      OR NEW.paid_on IS NOT OLD.paid_on OR NEW.voucher_number IS NOT OLD.voucher_number
    BEGIN
      SELECT RAISE(ABORT, 'payments are never edited; record a reversal');
    END;
    """,
    f"""
    CREATE TRIGGER finance_capitalplan_guard BEFORE UPDATE OF amount ON finance_capitalplan
    WHEN NEW.amount < {_NET_ALLOCATED.format(plan='NEW.id')}
    BEGIN
      SELECT RAISE(ABORT, 'capital plan amount below what is already allocated');
    END;
    """,
]

# Names of the guard triggers, so tests can load "legacy" rows written before the guards existed.
GUARD_TRIGGERS = {
    "finance_allocation": ["finance_allocation_guard", "finance_allocation_immutable"],
    "finance_disbursement": ["finance_disbursement_guard", "finance_disbursement_immutable"],
    "finance_capitalplan": ["finance_capitalplan_guard"],
}

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS finance_allocation_guard",
    "DROP TRIGGER IF EXISTS finance_disbursement_guard",
    "DROP TRIGGER IF EXISTS finance_allocation_immutable",
    "DROP TRIGGER IF EXISTS finance_disbursement_immutable",
    "DROP TRIGGER IF EXISTS finance_capitalplan_guard",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
