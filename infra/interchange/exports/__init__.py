"""Exports: one entry point for pages, `/exports/<format>` and `manage.py export`.

The access policy decides who may export (Action.EXPORT; the audit bundle Action.AUDIT_BUNDLE)
and which works they see; the filters narrow that further.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra.accounts.policy import Action, require
from infra.interchange.filters import export_works, filters_describe
from infra.works.selectors import WorkFilters

__all__ = ["FORMATS", "ExportFormat", "export_write"]


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
    name of the layer or file being written (GeoPackage, Shapefile, bundle).
    """
    from infra.interchange.exports.bundle import bundle_write
    from infra.interchange.exports.gis import geojson_write, kml_write, shapefile_zip_write
    from infra.interchange.exports.oc4ids import oc4ids_write
    from infra.interchange.exports.tabular import csv_write, xlsx_write

    export = FORMATS[fmt]
    require(user, export.action)
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
