"""When a task falls due, computed in the database with the same month arithmetic as Python.

`Schedule.next_due` (Python, dateutil's relativedelta) clamps to the end of a short month:
31 January + 1 month = 28/29 February, 29 February 2024 + 12 months = 28 February 2025.
PostgreSQL's `date + interval 'n months'` clamps the same way. SQLite's `date(d, '+n months')`
does not (it overflows 31 January + 1 month into early March), so there the day is added to the
first of the target month and capped at that month's last day. Tests hold all three equal.
"""
from __future__ import annotations

from django.db.models import DateField, F, Func

__all__ = ["NextDue", "next_due_sql"]


def next_due_sql(*, vendor: str, last_done: str, starts_on: str, interval_months: str) -> str:
    """Return SQL for a task's next due date over three column expressions (written by developers, never from requests)."""
    if vendor == "postgresql":
        shifted = f"({last_done} + make_interval(months => {interval_months}::integer))::date"
    else:
        first_of_target = f"date({last_done}, 'start of month', '+' || {interval_months} || ' months')"
        day_offset = f"CAST(julianday({last_done}) - julianday(date({last_done}, 'start of month')) AS INTEGER)"
        last_of_target = f"date({last_done}, 'start of month', '+' || ({interval_months} + 1) || ' months', '-1 day')"
        shifted = f"min(date({first_of_target}, '+' || {day_offset} || ' days'), {last_of_target})"
    return f"(CASE WHEN {last_done} IS NULL OR {interval_months} IS NULL THEN {starts_on} ELSE {shifted} END)"


class NextDue(Func):
    """A schedule's next due date as a query expression (closed tasks are filtered separately)."""

    output_field = DateField()

    def __init__(self, prefix: str = "", **extra):
        super().__init__(F(f"{prefix}last_done"), F(f"{prefix}starts_on"), F(f"{prefix}interval_months"), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        if any(params for _sql, params in compiled):
            raise ValueError("NextDue works over columns only")
        last_done, starts_on, interval_months = (sql for sql, _params in compiled)
        return next_due_sql(vendor=connection.vendor, last_done=last_done, starts_on=starts_on,
                            interval_months=interval_months), []
