"""Coordinate systems an imported file may use: an allow-list of integer EPSG codes (DOMAIN.md §6).

Only these integers ever reach GDAL's spatial-reference code (importFromEPSG, which reads PROJ's
own database); text from a file or a person never does. The EPSG definitions carry the VN-2000
→ WGS84 transformation in the convention PROJ expects, so no 7-parameter set is typed in here.
"""
from __future__ import annotations

from functools import cache

from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = ["ALLOWED_CRS", "WGS84", "crs_check", "to_wgs84"]

WGS84 = 4326
ALLOWED_CRS: dict[int, str] = {
    4326: gettext_lazy("WGS 84 (longitude/latitude)"),
    4756: gettext_lazy("VN-2000 (longitude/latitude)"),
    9205: gettext_lazy("VN-2000 / TM-3 103-00 (Lai Châu, metres)"),
    3405: gettext_lazy("VN-2000 / UTM zone 48N (metres)"),
}


def crs_check(value: object) -> int:
    """Return the EPSG code as an int if it is on the allow-list; raise ValidationError otherwise."""
    text = str(value).strip()
    if text.upper().startswith("EPSG:"):
        text = text[5:]
    if not text.isdigit() or int(text) not in ALLOWED_CRS:
        raise ValidationError(
            _("Coordinate system %(value)s is not accepted; use one of the EPSG codes %(codes)s.")
            % {"value": str(value)[:20], "codes": ", ".join(str(c) for c in ALLOWED_CRS)}
        )
    return int(text)


@cache
def _transform(epsg: int) -> CoordTransform:
    # SpatialReference(int) imports the EPSG code; Django keeps GIS (longitude, latitude) axis order.
    return CoordTransform(SpatialReference(epsg), SpatialReference(WGS84))


def to_wgs84(geometry: GEOSGeometry, epsg: int) -> GEOSGeometry:
    """Return the geometry, given in an allow-listed CRS, in WGS84 longitude/latitude."""
    epsg = crs_check(epsg)
    geometry = geometry.clone()
    geometry.srid = epsg
    if epsg != WGS84:
        geometry.transform(_transform(epsg))
    geometry.srid = WGS84
    return geometry
