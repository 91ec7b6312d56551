"""Works as CSV (UTF-8 with BOM, Vietnamese headers, one row per work) and as an Excel workbook.

On PostgreSQL the CSV is written by `COPY (SELECT …) TO STDOUT`, with the formula guard and the
text shapes in the SELECT, so a national export runs at the database's own speed; elsewhere the
same rows go through Python's csv module. Both give the same file.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import IO, Any

from openpyxl import Workbook

from infra.accounts.policy import Action, can, sees_internal
from infra.interchange.columns import BOOL, DATE, FLOAT, GEOMETRY_COLUMNS, INT, MONEY, TEXT, Column, columns_for, neutralise
from infra.interchange.exports.sheets import (
    DATE_FORMAT,
    VND_FORMAT,
    SheetWriter,
    allocations_sheet,
    capital_plans_sheet,
    disbursements_sheet,
    history_sheet,
    maintenance_sheet,
)
from infra.interchange.sql import copy_cursor, geometry_sql, iter_rows, postgis, works_select
from infra.works.models import Work

__all__ = ["BOM", "Progress", "csv_write", "plain", "spreadsheet_columns", "works_count", "xlsx_write"]

BOM = "\ufeff"
Progress = Callable[[int | str], None]  # works written so far (or, during a COPY, the megabytes)


def spreadsheet_columns(user: Any) -> tuple[Column, ...]:
    """Return the columns of a works sheet: the attributes, then longitude, latitude and WKT."""
    return columns_for(internal=sees_internal(user)) + GEOMETRY_COLUMNS


def _geometry_extra() -> list[str]:
    return [geometry_sql("lon"), geometry_sql("lat"), geometry_sql("wkt")]


def plain(value: Any, kind: str) -> Any:
    """Return a database value as the same Python value on both databases (SQLite gives 0/1 and text dates)."""
    if value is None:
        return None
    if kind == BOOL:
        return bool(value)
    if kind == DATE and isinstance(value, str):
        return date.fromisoformat(value[:10])
    if kind in (INT, MONEY):
        return int(value)  # PostgreSQL's SUM of bigint is numeric (a Decimal)
    return value


def _csv_text(value: Any, kind: str) -> str:
    value = plain(value, kind)
    if value is None:
        return ""
    if kind == BOOL:
        return "1" if value else "0"
    if kind == DATE:
        return value.isoformat()
    if kind == TEXT:
        return neutralise(value) or ""
    if kind == FLOAT:
        return repr(float(value))
    return str(value)


def csv_write(out: IO[bytes], *, user: Any, works: Any, progress: Progress | None = None) -> int:
    """Write the works as CSV to a binary file; return how many rows were written."""
    columns = spreadsheet_columns(user)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([c.header for c in columns])
    out.write((BOM + header.getvalue()).encode("utf-8"))
    attributes = [c for c in columns if c.sql]
    if postgis():
        sql, params = works_select(works, columns=attributes, extra=_geometry_extra(), csv=True)
        with copy_cursor(out, progress) as raw:
            statement = raw.mogrify(sql, params or None).decode("utf-8")
            raw.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", out)
            written = raw.rowcount
    else:
        sql, params = works_select(works, columns=attributes, extra=_geometry_extra())
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\n")
        kinds = [c.kind for c in columns]
        written = 0
        for row in iter_rows(sql, params):
            writer.writerow([_csv_text(v, k) for v, k in zip(row, kinds, strict=True)])
            written += 1
            if progress and written % 10_000 == 0:
                progress(written)
        text.flush()
        text.detach()
    if progress:
        progress(written)
    return written


def _works_sheet(book: Workbook, *, user: Any, works: Any, progress: Progress | None) -> int:
    columns = spreadsheet_columns(user)
    sheet = SheetWriter(book, "Công trình", [c.header for c in columns],
                        formats={i: VND_FORMAT if c.kind == MONEY else DATE_FORMAT
                                 for i, c in enumerate(columns) if c.kind in (MONEY, DATE)})
    attributes = [c for c in columns if c.sql]
    sql, params = works_select(works, columns=attributes, extra=_geometry_extra())
    kinds = [c.kind for c in columns]
    for row in iter_rows(sql, params):
        sheet.append([plain(v, k) for v, k in zip(row, kinds, strict=True)])
        if progress and sheet.rows % 10_000 == 0:
            progress(sheet.rows)
    sheet.close()
    return sheet.rows


def xlsx_write(out: IO[bytes], *, user: Any, works: Any, progress: Progress | None = None) -> int:
    """Write the workbook (works, capital plans, allocations, disbursements, maintenance, and the history for those
    who may read it: the board and auditors); return the works."""
    # write_only keeps rows on disk, not in memory, whatever the number of works.
    book = Workbook(write_only=True)
    count = _works_sheet(book, user=user, works=works, progress=progress)
    narrowed = bool(works.query.where)
    capital_plans_sheet(book)
    allocations_sheet(book, works=works, narrowed=narrowed)
    disbursements_sheet(book, works=works, narrowed=narrowed)
    maintenance_sheet(book, works=works)
    if can(user, Action.HISTORY_READ):
        history_sheet(book, works=works)
    book.save(out)
    if progress:
        progress(count)
    return count


def works_count(works: Any) -> int:
    """Return how many works an export will hold (for a progress bar)."""
    return works.count() if works.query.where else Work.objects.count()
