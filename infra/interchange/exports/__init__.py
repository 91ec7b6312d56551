"""Exports: one entry point for pages, `/exports/<format>` and `manage.py export`.

The access policy decides who may export (Action.EXPORT; the audit bundle Action.AUDIT_BUNDLE)
and which works they see; the filters narrow that further.

An export reads the database many times (a workbook's works, then its money and history sheets; the
bundle's every file, and the audit chain's head). On PostgreSQL all of it is read from one state of
the database (`one_state`): a payment recorded while a bundle is written is in none of its files, not
in the CSV and missing from the workbook, and the audit entries stop at the head the manifest states.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connections, transaction

from gis.reading import reading_alias
from infra.accounts.policy import Action, require
from infra.interchange.filters import export_works, filters_describe
from infra.works.selectors import WorkFilters

__all__ = ["FORMATS", "ExportFormat", "export_write", "one_state"]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    filename: str
    content_type: str
    action: Action


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("csv", "works.csv", "text/csv; charset=utf-8", Action.EXPORT),
    ExportFormat("xlsx", "works.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Action.EXPORT),
    ExportFormat("geojson", "works.geojson", "application/geo+json", Action.EXPORT),
    ExportFormat("gpkg", "works.gpkg", "application/geopackage+sqlite3", Action.EXPORT),
    ExportFormat("shp", "works-shapefiles.zip", "application/zip", Action.EXPORT),
    ExportFormat("kml", "works.kml", "application/vnd.google-earth.kml+xml", Action.EXPORT),
    ExportFormat("oc4ids", "oc4ids.json", "application/json", Action.EXPORT),
    ExportFormat("audit-bundle", "audit-bundle.zip", "application/zip", Action.AUDIT_BUNDLE),
)}


@contextmanager
def one_state() -> Iterator[None]:
    """On PostgreSQL, read everything within from one state of the database: one REPEATABLE READ, READ ONLY
    transaction (a snapshot taken at its first read; writers go on meanwhile). Inside a transaction already
    (a test's, a caller's) the reads share that one.

    On SQLite (SpatiaLite, without a write-ahead log) a reader sees one state only by keeping writers from
    committing: the application's transactions begin IMMEDIATE, so an export would hold the write lock for
    its whole run, and a second export, a save or a background import's commit would wait for it and fail
    after the busy timeout. There the export reads as before, statement by statement (docs/interchange.md)."""
    alias = reading_alias()
    connection = connections[alias]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _gpkg_into(out: IO[bytes], *, works: Any, progress: Callable | None = None) -> dict[str, int]:
    from infra.interchange.exports.gis import gpkg_write

    # ogr2ogr writes a file; it is copied into `out` (a file the caller owns).
    with tempfile.TemporaryDirectory(prefix="export-") as temp:
        path = Path(temp) / "works.gpkg"
        counts = gpkg_write(path, works=works, progress=progress)
        with path.open("rb") as handle:
            shutil.copyfileobj(handle, out, 1 << 20)
    return counts


def export_write(*, fmt: str, out: IO[bytes], user: Any, filters: WorkFilters, base_url: str,
                 progress: Callable | None = None) -> Any:
    """Write one export to a binary file; raise PermissionDenied unless the person may have it.

    `progress` is called with a count of works written (tabular, GeoJSON, KML, OC4IDS) or the
    name of the layer or file being written (GeoPackage, Shapefile, bundle); everything is read from one
    state of the database (one_state).
    """
    export = FORMATS[fmt]
    require(user, export.action)
    with one_state():
        return _write(fmt, out=out, user=user, filters=filters, base_url=base_url, progress=progress)


def _write(fmt: str, *, out: IO[bytes], user: Any, filters: WorkFilters, base_url: str, progress: Callable | None) -> Any:
    from infra.interchange.exports.bundle import bundle_write
    from infra.interchange.exports.gis import geojson_write, kml_write, shapefile_zip_write
    from infra.interchange.exports.oc4ids import oc4ids_write
    from infra.interchange.exports.tabular import csv_write, xlsx_write

    works = export_works(user=user, filters=filters)
    if fmt == "csv":
        return csv_write(out, user=user, works=works, progress=progress)
    if fmt == "xlsx":
        return xlsx_write(out, user=user, works=works, progress=progress)
    if fmt == "geojson":
        return geojson_write(out, works=works, progress=progress)
    if fmt == "kml":
        return kml_write(out, works=works, progress=progress)
    if fmt == "gpkg":
        return _gpkg_into(out, works=works, progress=progress)
    if fmt == "shp":
        return shapefile_zip_write(out, works=works, progress=progress)
    if fmt == "oc4ids":
        return oc4ids_write(out, works=works, base_url=base_url, progress=progress)
    return bundle_write(out, user=user, works=works, filters=filters_describe(filters), base_url=base_url, progress=progress)
