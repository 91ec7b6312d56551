"""Read a checked file (safety.file_check passed) into rows of named values and a geometry.

Column names are matched through columns.header_key (Vietnamese headers, English keys or the
Shapefile names); columns this system does not know are ignored. Text that our exports
neutralised against spreadsheet formulas is given back as it was: a CSV's leading apostrophe is taken
off, a workbook cell marked with the quote prefix is read as it is. The coordinate system a file
declares is read by this module (GeoPackage's EPSG code, a Shapefile .prj's name, GeoJSON's
`crs`), never by GDAL's SRS parser, and must be on the allow-list.
"""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from infra.cells import quoted
from infra.dates import EARLIEST, LATEST
from infra.interchange.columns import header_key, unneutralise
from infra.interchange.safety import SHAPEFILE_CUT_LIST, Checked

__all__ = ["MAX_ROWS", "RawRow", "Source", "source_read"]

MAX_ROWS = 20_000


@dataclass
class RawRow:
    number: int                 # 1-based, as a person counts rows or features
    values: dict[str, Any]
    geometry: GEOSGeometry | None = None
    problem: str = ""           # a reason found while reading (an unreadable geometry)
    cells: tuple[int, int] | None = None  # CSV: the row's cells and the header's, where the row has more


@dataclass
class Source:
    rows: list[RawRow] = field(default_factory=list)
    crs: int | None = None      # what the file says, when it says it
    crs_missing: bool = False   # a shapefile without its .prj: nothing says what its coordinates are


class Verbatim(str):
    """Text a workbook marks as written (its cell's quote prefix, infra.cells.excel_cell): not unneutralised."""

    __slots__ = ()


def _value(raw: Any, *, escaped: bool) -> Any:
    """A cell's value; text stripped, and unneutralised where the format is one our exports escape (`escaped`)."""
    if isinstance(raw, str):
        if isinstance(raw, Verbatim):
            raw = raw.rstrip().lstrip(" ")  # a marked text keeps a leading tab, as a CSV's escaped one ('\t…) does
        else:
            raw = unneutralise(raw.strip()) if escaped else raw.strip()
        return raw or None
    return raw


def _cell_value(cell: Any) -> Any:
    """A workbook cell's value; its text as Verbatim where the cell has the quote prefix."""
    value = cell.value
    return Verbatim(value) if isinstance(value, str) and quoted(cell) else value


def _named(pairs: Iterator[tuple[Any, Any]], *, escaped: bool = False) -> dict[str, Any]:
    """The values a row names, by column key. `escaped`: a CSV or a workbook, whose text our exports escape against
    spreadsheet formulas with an apostrophe (columns.neutralise; workbooks until 2026-12-06); GeoJSON, KML,
    GeoPackage and Shapefile exports hold their text as it is, so a leading apostrophe there is the text's own."""
    values: dict[str, Any] = {}
    for name, raw in pairs:
        key = header_key(name)
        if key is not None and key not in values:
            values[key] = _value(raw, escaped=escaped)
    return values


def _limit(rows: list[RawRow]) -> list[RawRow]:
    if len(rows) > MAX_ROWS:
        raise ValidationError(_("The file has more than %(max)d rows; split it.") % {"max": MAX_ROWS})
    return rows


def _csv(path: Path) -> Source:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise ValidationError(_("The file has no header row."))
    # A row longer than the header (an unquoted comma inside a value: "Cầu treo, dài 50m", "103,36") keeps its count,
    # and is refused (validate.py) rather than read without its last cells.
    rows = [RawRow(number=i, values=_named(zip(header, cells, strict=False), escaped=True),
                   cells=(len(cells), len(header)) if len(cells) > len(header) else None)
            for i, cells in enumerate(reader, start=1) if any(c.strip() for c in cells)]
    return Source(rows=_limit(rows))


def _xlsx(path: Path) -> Source:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book["Công trình"] if "Công trình" in book.sheetnames else book.worksheets[0]
        lines = ([_cell_value(cell) for cell in row] for row in sheet.iter_rows())
        header = next(lines, None)
        if not header:
            raise ValidationError(_("The file has no header row."))
        rows = []
        for number, cells in enumerate(lines, start=1):
            if not any(c not in (None, "") for c in cells):
                continue
            values = _named(zip(header, cells, strict=False), escaped=True)
            for key, value in values.items():
                if isinstance(value, datetime) and value.time() == datetime.min.time():
                    values[key] = value.date()
            rows.append(RawRow(number=number, values=values))
            if len(rows) > MAX_ROWS:
                break
    finally:
        book.close()
    return Source(rows=_limit(rows))


_EPSG_URN = re.compile(r"EPSG:{1,2}(\d+)$", re.IGNORECASE)


def _geojson(path: Path) -> Source:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError(_("The file is not valid JSON.")) from None
    features = data.get("features") if isinstance(data, dict) and data.get("type") == "FeatureCollection" else (
        [data] if isinstance(data, dict) and data.get("type") == "Feature" else None)
    if not isinstance(features, list):
        raise ValidationError(_("The file is not a GeoJSON Feature or FeatureCollection."))
    crs = None
    name = ((data.get("crs") or {}).get("properties") or {}).get("name") if isinstance(data.get("crs"), dict) else None
    if name:
        found = _EPSG_URN.search(str(name))
        crs = int(found[1]) if found else (4326 if "CRS84" in str(name).upper() else -1)
    rows = []
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        row = RawRow(number=number, values=_named((properties or {}).items()))
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if geometry:
            try:
                row.geometry = GEOSGeometry(json.dumps(geometry))
            except (GEOSException, GDALException, ValueError, TypeError):
                row.problem = _("The geometry cannot be read.")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            break
    return Source(rows=_limit(rows), crs=crs)


def _ogr_rows(path: Path, *, layer_names: list[str] | None = None) -> list[RawRow]:
    """Read features with GDAL (GeoPackage, Shapefile): the `works*` layers if any, else every layer with geometry."""
    try:
        source = DataSource(str(path))
    except GDALException:
        raise ValidationError(_("The file cannot be read.")) from None
    layers = [layer for layer in source if layer_names is None or layer.name in layer_names]
    works = [layer for layer in layers if layer.name.lower().startswith("works")]
    rows: list[RawRow] = []
    for layer in works or layers:
        if layer.geom_type.name == "None" and not works:
            continue
        names = layer.fields
        for feature in layer:
            row = RawRow(number=len(rows) + 1, values=_named((n, feature.get(n)) for n in names))
            try:
                row.geometry = GEOSGeometry(memoryview(bytes(feature.geom.wkb))) if feature.geom is not None else None
            except (GDALException, GEOSException):
                row.problem = _("The geometry cannot be read.")
            rows.append(row)
            if len(rows) > MAX_ROWS:
                return _limit(rows)
    return _limit(rows)


def _gpkg(path: Path) -> Source:
    # The layers' coordinate system, read from the GeoPackage's tables (never parsed by GDAL's SRS code).
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        found = db.execute(
            "SELECT DISTINCT s.organization, s.organization_coordsys_id FROM gpkg_geometry_columns g "
            "JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id").fetchall()
    codes = {int(code) if str(org).upper() == "EPSG" else -1 for org, code in found}
    crs = codes.pop() if len(codes) == 1 else (None if not codes else -1)
    return Source(rows=_ogr_rows(path), crs=crs)


def _prj_epsg(text: str) -> int:
    """Return the allow-listed EPSG code a .prj names, by its text alone; -1 when it names something else."""
    found = re.findall(r'AUTHORITY\["EPSG",\s*"?(\d+)"?\]', text)
    if found:
        return int(found[-1]) if text.lstrip().upper().startswith(("PROJCS", "GEOGCS")) else -1
    upper = text.upper().replace(" ", "_")
    projected = upper.startswith("PROJCS")
    if "VN_2000" in upper or "VN-2000" in upper:
        if not projected:
            return 4756
        if "UTM_ZONE_48N" in upper:
            return 3405
        if re.search(r'CENTRAL_MERIDIAN",\s*103(\.0+)?\]', upper) and re.search(r'SCALE_FACTOR",\s*0\.9999\]', upper):
            return 9205
        return -1
    if not projected and ("WGS_1984" in upper or "WGS_84" in upper):
        return 4326
    return -1


def _shapefile(path: Path) -> Source:
    with tempfile.TemporaryDirectory(prefix="import-shp-") as temp, zipfile.ZipFile(path) as archive:
        folder = Path(temp)
        crs: set[int] = set()
        shapes: list[Path] = []
        for member in archive.infolist():
            if member.is_dir():
                continue
            name = PurePosixPath(member.filename)
            if member.filename == SHAPEFILE_CUT_LIST:
                continue  # our export's list of cut texts, for people (safety.SHAPEFILE_CUT_LIST)
            if name.suffix.lower() == ".prj":
                crs.add(_prj_epsg(archive.read(member).decode("utf-8", "replace")))
                continue  # never handed to GDAL: the CRS is decided above
            target = folder / f"{'_'.join(name.with_suffix('').parts)}{name.suffix.lower()}"
            if target.exists():
                raise ValidationError(_("The zip holds two files named %(name)s.") % {"name": target.name})
            target.write_bytes(archive.read(member))
            if target.suffix == ".shp":
                shapes.append(target)
        rows: list[RawRow] = []
        ordered = sorted(shapes, key=lambda p: (not p.stem.lower().startswith("works"), p.name))
        works_only = any(p.stem.lower().startswith("works") for p in shapes)
        for shape in ordered:
            if works_only and not shape.stem.lower().startswith("works"):
                continue
            for row in _ogr_rows(shape):
                row.number = len(rows) + 1
                rows.append(row)
        missing = not crs
        return Source(rows=_limit(rows), crs=crs.pop() if len(crs) == 1 else (None if missing else -1), crs_missing=missing)


def _strip(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _coordinates(text: str) -> list[str]:
    points = []
    for triple in (text or "").split():
        parts = triple.split(",")
        if len(parts) < 2:
            raise ValueError("bad coordinate")
        points.append(f"{float(parts[0])!r} {float(parts[1])!r}")
    return points


def _kml_wkt(element: ElementTree.Element) -> str | None:
    kind = _strip(element.tag)
    children = list(element)
    if kind == "Point":
        coordinates = next((c for c in element.iter() if _strip(c.tag) == "coordinates"), None)
        return f"POINT ({_coordinates(coordinates.text)[0]})" if coordinates is not None else None
    if kind == "LineString":
        coordinates = next((c for c in element.iter() if _strip(c.tag) == "coordinates"), None)
        return f"LINESTRING ({', '.join(_coordinates(coordinates.text))})" if coordinates is not None else None
    if kind == "Polygon":
        rings = []
        for boundary in children:
            if _strip(boundary.tag) in ("outerBoundaryIs", "innerBoundaryIs"):
                coordinates = next(c for c in boundary.iter() if _strip(c.tag) == "coordinates")
                ring = f"({', '.join(_coordinates(coordinates.text))})"
                rings.insert(0, ring) if _strip(boundary.tag) == "outerBoundaryIs" else rings.append(ring)
        return f"POLYGON ({', '.join(rings)})"
    if kind == "MultiGeometry":
        parts = [_kml_wkt(c) for c in children]
        kinds = {p.split(" ", 1)[0] for p in parts if p}
        if len(kinds) == 1 and kinds <= {"POINT", "LINESTRING", "POLYGON"}:
            kind = kinds.pop()
            return f"MULTI{kind} ({', '.join(p[len(kind) + 1:] for p in parts)})"
        return f"GEOMETRYCOLLECTION ({', '.join(p for p in parts if p)})"
    return None


def _kml(path: Path) -> Source:
    # safety.file_check refused any DOCTYPE or entity, so expat expands nothing here.
    try:
        root = ElementTree.fromstring(path.read_bytes())
    except ElementTree.ParseError:
        raise ValidationError(_("The file is not valid KML (XML).")) from None
    rows = []
    for number, placemark in enumerate((e for e in root.iter() if _strip(e.tag) == "Placemark"), start=1):
        pairs: list[tuple[str, Any]] = []
        geometry = None
        for child in placemark:
            tag = _strip(child.tag)
            if tag in ("name", "description"):
                pairs.append((tag, child.text))
            elif tag == "ExtendedData":
                for data in child.iter():
                    if _strip(data.tag) == "Data":
                        value = next((v.text for v in data if _strip(v.tag) == "value"), None)
                        pairs.append((data.get("name", ""), value))
                    elif _strip(data.tag) == "SimpleData":
                        pairs.append((data.get("name", ""), data.text))
            elif tag in ("Point", "LineString", "Polygon", "MultiGeometry"):
                geometry = child
        # ExtendedData wins over the Placemark's own name (ours carry both, the same).
        pairs.sort(key=lambda p: p[0] in ("name", "description"))
        row = RawRow(number=number, values=_named(iter(pairs)))
        if geometry is not None:
            try:
                row.geometry = GEOSGeometry(_kml_wkt(geometry))
            except (ValueError, TypeError, StopIteration, GEOSException):
                row.problem = _("The geometry cannot be read.")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            break
    return Source(rows=_limit(rows), crs=4326)  # KML is WGS84 by definition


_READERS = {"csv": _csv, "xlsx": _xlsx, "geojson": _geojson, "gpkg": _gpkg, "shapefile": _shapefile, "kml": _kml}


def source_read(checked: Checked) -> Source:
    """Return the rows of a file that passed safety.file_check."""
    return _READERS[checked.kind](checked.path)


def as_date(value: Any) -> date | None:
    """Return a date from a file's value (a date, a date and time at midnight, an ISO text or dd/mm/yyyy, the whole
    text); raise ValueError otherwise: a time of day, text after the date, a year outside 1900–2100."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        if value.time() != datetime.min.time() or value.tzinfo is not None:
            raise ValueError("a date and a time of day: which day is meant depends on the time zone")
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
            number, month, year = (int(p) for p in text.split("/"))
            day = date(year, month, number)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00)?)?", text):
            day = date.fromisoformat(text[:10])
        else:
            raise ValueError(f"not a date as written: {text!r}")
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"a year out of range: {day.year}")
    return day
