"""What the audit tests share: a write past the append-only guards, as someone with the tables' owner role could."""
from __future__ import annotations

from django.db import connection


def without_guard(table: str, statement: str, params: list) -> None:
    """Do what only someone with direct database access could: switch the guard off and write."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferred; settle them so the table may be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        else:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only"')
        cursor.execute(statement, params)
