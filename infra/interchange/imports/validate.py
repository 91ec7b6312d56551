"""Turn a file's rows into works to create, or into the reasons each row is refused.

Every row is checked, so a dry run lists every problem at once: unknown category, geometry type
wrong for the category, outside Lai Châu, invalid geometry, duplicate code, bad number, and the
rest. Geometry is transformed from the file's coordinate system (allow-list only) to WGS84.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from gis.models import RoadClass, RoadSurface
from gis.selectors import commune_resolve
from infra.accounts.models import Organisation
from infra.cells import printable
from infra.interchange.crs import ALLOWED_CRS, WGS84, to_wgs84
from infra.interchange.imports.readers import RawRow, Source, as_date
from infra.numbers import WHOLE_NUMBER_HINT, whole_number
from infra.works.choices import Category, SchoolLevel, Stage, WaterSource
from infra.works.models import Work
from infra.works.services import work_check_geometry

__all__ = ["RowResult", "rows_validate"]

_INTS = {"progress": (0, 100), "approved_year": (2000, 2100), "beneficiary_households": (0, None),
         "beneficiary_poor_households": (0, None), "beneficiary_women": (0, None), "total_investment": (0, None)}
_BOOLS = ("all_season", "special_mechanism", "is_demo")
_DATES = ("planned_start", "planned_end", "actual_start", "actual_end")
_CHOICES = {"school_level": SchoolLevel, "water_source": WaterSource, "road_class": RoadClass, "road_surface": RoadSurface}
_TRUE = {"1", "true", "yes", "có", "x", "đúng"}
_FALSE = {"0", "false", "no", "không", "sai"}
_PROJECTED = {9205, 3405}


@dataclass
class RowResult:
    number: int
    code: str
    reasons: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return not self.reasons


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def _choice(value: Any, choices: Any) -> str | None:
    """Return the code of a choice given as its code or its label (English or Vietnamese)."""
    text = _fold(value)
    if text in choices.values:
        return text
    for language in ("vi", "en"):
        with translation.override(language):
            for code, label in choices.choices:
                if _fold(label) == text:
                    return code
    return None


def _integer(value: Any) -> int:
    # A spreadsheet's numbers are floats (whole and exact ones are read); text as people write it (infra.numbers).
    return whole_number(value, floats=True)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _fold(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _geometry(row: RawRow, crs: int) -> GEOSGeometry:
    """Return the row's geometry in WGS84; raise ValidationError saying what is wrong."""
    values = row.values
    if row.problem:
        raise ValidationError(row.problem)
    geometry, source = row.geometry, crs
    try:
        has_xy = values.get("x") is not None and values.get("y") is not None
        if geometry is None and values.get("wkt"):
            geometry = GEOSGeometry(str(values["wkt"]))
            if geometry.srid is not None and geometry.srid != crs:
                # An EWKT's own SRID against the coordinate system chosen for the file: which one is meant?
                raise ValidationError(_("The WKT says SRID %(srid)s but the file's coordinate system is EPSG %(crs)s; "
                                        "make them agree.") % {"srid": geometry.srid, "crs": crs})
        elif geometry is None and has_xy and crs in _PROJECTED:
            geometry = Point(float(values["x"]), float(values["y"]))  # easting, northing
        elif geometry is None and values.get("lon") is not None and values.get("lat") is not None:
            if crs in _PROJECTED:
                raise ValidationError(_("Longitude/latitude are degrees, not coordinates in the projected system EPSG "
                                        "%(crs)s: give X/Y, or choose EPSG 4326 or 4756.") % {"crs": crs})
            geometry = Point(float(values["lon"]), float(values["lat"]))  # longitude first
        elif geometry is None and has_xy:
            raise ValidationError(_("X/Y coordinates need a projected coordinate system: choose EPSG 9205 or 3405."))
    except (ValueError, TypeError, GEOSException):
        raise ValidationError(_("The geometry cannot be read.")) from None
    if geometry is None:
        raise ValidationError(_("The row has no geometry (WKT, longitude/latitude or X/Y)."))
    try:
        return to_wgs84(geometry, source)
    except (GEOSException, Exception) as error:  # GDAL's transformation errors have no common base class
        if isinstance(error, ValidationError):
            raise
        raise ValidationError(_("The coordinates cannot be transformed to WGS84.")) from None


def _messages(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


def _row_fields(row: RawRow, reasons: list[str]) -> dict[str, Any]:
    values = row.values
    fields: dict[str, Any] = {}
    for key in ("name", "description"):
        if values.get(key) is not None:
            fields[key] = unicodedata.normalize("NFC", str(values[key])).strip()
            _printable(key, fields[key], reasons)
    if not fields.get("name"):
        reasons.append(_("The name is missing."))
    category = _choice(values.get("category") or "", Category)
    if category is None:
        reasons.append(_("Unknown category %(value)r.") % {"value": str(values.get("category") or "")[:40]})
    fields["category"] = category
    stage = _choice(values["stage"], Stage) if values.get("stage") else Stage.PROPOSED
    if stage is None:
        reasons.append(_("Unknown stage %(value)r.") % {"value": str(values["stage"])[:40]})
    fields["stage"] = stage
    if values.get("approved_year") is None:
        reasons.append(_("The plan year is missing."))
    if row.cells:
        reasons.append(_("This row has %(cells)d cells where the header names %(names)d: a value holding a comma "
                         "must be in quotes.") % {"cells": row.cells[0], "names": row.cells[1]})
    for key, (low, high) in _INTS.items():
        if values.get(key) is None:
            continue
        bad = _("Bad number in %(column)s: %(value)r.") % {"column": key, "value": str(values[key])[:40]}
        try:
            number = _integer(values[key])
        except ValueError:
            reasons.append(f"{bad} {WHOLE_NUMBER_HINT}")  # how to write it: never a guess at what was meant
            continue
        if number < low or (high is not None and number > high):
            reasons.append(bad)
            continue
        fields[key] = number
    for key in _BOOLS:
        if values.get(key) is not None:
            try:
                fields[key] = _boolean(values[key])
            except ValueError:
                reasons.append(_("Bad yes/no value in %(column)s: %(value)r.") % {"column": key, "value": str(values[key])[:40]})
    for key in _DATES:
        try:
            if values.get(key) is not None:
                fields[key] = as_date(values[key])
        except (ValueError, TypeError):
            reasons.append(_("Bad date in %(column)s: %(value)r.") % {"column": key, "value": str(values[key])[:40]})
    for key, choices in _CHOICES.items():
        if values.get(key):
            code = _choice(values[key], choices)
            if code is None:
                reasons.append(_("Unknown value %(value)r in %(column)s.") % {"value": str(values[key])[:40], "column": key})
            fields[key] = code or ""
    _references(values, fields, reasons)
    return fields


_COMMUNE = re.compile(r"^(?P<code>[0-9A-Za-z]{1,16})(?:@(?P<on>\d{4}-\d{2}-\d{2}))?$")


def _references(values: dict[str, Any], fields: dict[str, Any], reasons: list[str]) -> None:
    if values.get("approved_commune"):
        text = str(values["approved_commune"]).strip()
        found = _COMMUNE.match(text)
        unit = None
        if found:
            try:
                unit = commune_resolve(code=found["code"], on=date.fromisoformat(found["on"]) if found["on"] else None)
            except ValueError:
                unit = None
        if unit is None:
            reasons.append(_("Unknown commune %(value)r (a code such as 03549, or 03562@2025-06-30 for a former commune).")
                           % {"value": text[:40]})
        fields["approved_commune"] = unit
    if values.get("contractor"):
        name = unicodedata.normalize("NFC", str(values["contractor"])).strip()
        contractor = Organisation.objects.filter(name=name).first()
        if contractor is None:
            reasons.append(_("Unknown contractor %(value)r: add the organisation first.") % {"value": name[:60]})
        fields["contractor"] = contractor


def _printable(key: str, text: str, reasons: list[str]) -> None:
    """The work's own fields refuse a control character (infra.cells.printable): said in the preview already."""
    try:
        printable(text)
    except ValidationError as error:
        reasons += [f"{key}: {message}" for message in error.messages]


def rows_validate(source: Source, *, crs: int | None) -> list[RowResult]:
    """Check every row; return each row's result (accepted with its fields, or the reasons)."""
    if source.crs == -1 and crs is None:
        raise ValidationError(_("The file's coordinate system is not one this system accepts; choose one of %(codes)s "
                                "if you know it.") % {"codes": ", ".join(str(c) for c in ALLOWED_CRS)})
    if source.crs_missing and crs is None:
        # Degrees inside the province could be WGS84 or VN-2000 (about 200 m apart): never guessed.
        raise ValidationError(_("The shapefile has no .prj, so its coordinate system is unknown; choose one of %(codes)s.")
                              % {"codes": ", ".join(str(c) for c in ALLOWED_CRS)})
    chosen = crs if crs is not None else (source.crs or WGS84)
    codes = [str(r.values.get("code") or "").strip() for r in source.rows]
    existing = set(Work.objects.filter(code__in=[c for c in codes if c]).values_list("code", flat=True))
    seen: set[str] = set()
    results = []
    for row, code in zip(source.rows, codes, strict=True):
        result = RowResult(number=row.number, code=code)
        if not code:
            result.reasons.append(_("The code is missing."))
        elif code in existing:
            result.reasons.append(_("Duplicate code %(code)s: a work with this code exists.") % {"code": code})
        elif code in seen:
            result.reasons.append(_("Duplicate code %(code)s: it appears twice in the file.") % {"code": code})
        seen.add(code)
        _printable("code", code, result.reasons)
        result.fields = _row_fields(row, result.reasons)
        try:
            geometry = _geometry(row, chosen)
            if result.fields.get("category"):
                work_check_geometry(category=result.fields["category"], geometry=geometry)
            result.fields["geometry"] = geometry
        except ValidationError as error:
            result.reasons += _messages(error)
        results.append(result)
    return results
