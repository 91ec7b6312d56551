import importlib

import pytest
from django.db import connection

guards = importlib.import_module("infra.finance.migrations.0002_money_guards")


@pytest.fixture
def money_guards_off(db):
    """Switch the money triggers off inside this test's transaction, to stand for rows written
    before the guards existed (imports, old databases) that reconciliation must still catch.
    The rollback at the end of the test restores them."""
    with connection.cursor() as cursor:
        for table, triggers in guards.GUARD_TRIGGERS.items():
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                for trigger in triggers:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    yield
