"""The one statement that reads works for every export, on PostGIS and SpatiaLite alike.

Which works are read is decided by a Django queryset that went through the access policy
(`works_matching`), so an export holds exactly what the person may see. Its SQL becomes the
match condition; with no filter at all the condition is left out so that a national export is
one sequential scan, as fast as `COPY` of the table (docs/benchmarks.md).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from django.db import connection, transaction
from django.db.models import QuerySet

from gis.models import AdminUnit
from infra.accounts.models import Organisation
from infra.interchange.columns import _APPROVED_COMMUNE, BOOL, DATE, MONEY_JOINS, TEXT, Column
from infra.works.models import Work

__all__ = ["copy_cursor", "geometry_sql", "iter_rows", "postgis", "works_select"]

WORKS = Work._meta.db_table
UNITS = AdminUnit._meta.db_table
ORGANISATIONS = Organisation._meta.db_table
JOINS = (f"LEFT JOIN {UNITS} c ON c.id = t.current_commune_id LEFT JOIN {UNITS} ac ON ac.id = t.approved_commune_id "
         f"LEFT JOIN {ORGANISATIONS} o ON o.id = t.contractor_id {MONEY_JOINS}")
CHUNK = 5000
SPATIALITE_DECIMALS = 13  # geometry_sql


def postgis() -> bool:
    return connection.vendor == "postgresql"


def geometry_sql(kind: str, column: str = "t.geometry") -> str:
    """Return the SQL giving a geometry as wkt, geojson, kml, lon, lat or type (OGC name)."""
    pg = postgis()
    # SpatiaLite writes a coordinate with the decimals asked for, trailing zeros cut: with its default (15)
    # 103.1 came out as 103.0999999999999, the double's noise. With 13, every coordinate written with up
    # to 12 decimals comes out as written (its shortest form, as PostGIS writes it); past 13 decimals
    # (1e-13°, 10 nm) it is rounded. Its AsText keeps 6 decimals (10 cm).
    if kind == "wkt":
        return f"ST_AsText({column})" if pg else f"AsWKT({column}, {SPATIALITE_DECIMALS})"
    if kind == "geojson":
        return f"ST_AsGeoJSON({column}, 15)" if pg else f"AsGeoJSON({column}, {SPATIALITE_DECIMALS})"
    if kind == "kml":
        return f"ST_AsKML({column}, 15)" if pg else f"AsKml({column}, {SPATIALITE_DECIMALS})"
    if kind in ("lon", "lat"):
        # Only a point has one longitude/latitude (ST_X refuses other types on PostGIS).
        axis = "ST_X" if kind == "lon" else "ST_Y"
        return f"CASE WHEN GeometryType({column}) = 'POINT' THEN {axis}({column}) END"
    if kind == "type":
        return f"upper(GeometryType({column}))"
    raise ValueError(f"unknown geometry output {kind!r}")


def column_sql(column: Column, *, csv: bool = False, neutralise: bool = True) -> str:
    """Return a column's expression; `csv` shapes it as text ready for PostgreSQL's COPY … CSV.

    `neutralise` guards text against spreadsheet formulas (for CSV meant for people, not for GIS).
    """
    expression = column.sql
    if column.key == "approved_commune":
        expression = _APPROVED_COMMUNE.format(valid_to="to_char(ac.valid_to, 'YYYY-MM-DD')" if postgis() else "ac.valid_to")
    if not csv:
        return expression
    if column.kind == BOOL:
        return f"CASE WHEN {expression} THEN '1' WHEN {expression} IS NULL THEN NULL ELSE '0' END"
    if column.kind == DATE:
        return f"to_char({expression}, 'YYYY-MM-DD')"
    if column.kind == TEXT and neutralise:
        return neutralised_sql(expression)
    return expression


def neutralised_sql(expression: str) -> str:
    """Return SQL that prefixes an apostrophe to text a spreadsheet would run (columns.neutralise in SQL)."""
    # chr(9) is a tab and chr(13) a carriage return; an empty text becomes NULL (an empty CSV field).
    return (f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', '''', chr(9), chr(13)) "
            f"THEN '''' || {expression} ELSE NULLIF({expression}, '') END")


def works_select(
    works: QuerySet[Work],
    *,
    columns: Sequence[Column],
    extra: Sequence[str] = (),
    csv: bool = False,
    neutralise: bool = True,
    condition: tuple[str, Sequence[Any]] | None = None,
) -> tuple[str, list[Any]]:
    """Return the SELECT of these works' columns (and `extra` SQL expressions), unordered, with params.

    `condition` is one more SQL condition over `t` with its params (written by developers).
    """
    select = [column_sql(c, csv=csv, neutralise=neutralise) for c in columns] + list(extra)
    sql = f"SELECT {', '.join(select)} FROM {WORKS} t {JOINS}"
    where: list[str] = []
    params: list[Any] = []
    if works.query.where:
        match, match_params = works.order_by().values("id").query.sql_with_params()
        where.append(f"t.id IN ({match})")
        params += list(match_params)
    if condition is not None:
        where.append(condition[0])
        params += list(condition[1])
    if where:
        sql += " WHERE " + " AND ".join(f"({part})" for part in where)  # a condition holding OR stays whole
    return sql, params


@contextmanager
def copy_cursor(out: IO[bytes], progress: Callable[[str], None] | None = None) -> Iterator[Any]:
    """Yield the psycopg2 cursor of a transaction ready for a long `COPY … TO STDOUT` into `out`.

    The application's connections turn parallel query off (short map queries suffer from it); a
    national export is one long scan that it speeds up, so it is turned back on for this
    transaction only. psycopg2 writes each row with `out.write`, so `out` must be a plain file
    (a Python wrapper there costs a microsecond a row): progress is read from its size by a thread.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        done = threading.Event()

        def report() -> None:
            while not done.wait(0.5):
                progress(f"{out.tell() / 2**20:,.0f} MB")

        reporter = threading.Thread(target=report, daemon=True) if progress else None
        if reporter:
            reporter.start()
        try:
            yield cursor.cursor
        finally:
            done.set()
            if reporter:
                reporter.join()


def iter_rows(sql: str, params: Sequence[Any], *, chunk: int = CHUNK) -> Iterator[tuple]:
    """Yield the rows of a statement a chunk at a time (a server-side cursor on PostgreSQL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, list(params))
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                return
            yield from rows
