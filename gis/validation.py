"""Checks on geometries that arrive from people: valid, in WGS84, inside the area, not absurd."""
from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["MAX_VERTICES", "geometry_check"]

# A district work never needs more; a bigger geometry is a mistake or an attack.
MAX_VERTICES = 20_000


def _prepared(area: GEOSGeometry, buffer_deg: float = 0.0):
    """The area (widened by `buffer_deg`) prepared for repeated tests, kept on the area object itself: an
    outline read once and checked against many geometries (an import's rows) is prepared once."""
    kept = area.__dict__.setdefault("_prepared_for_checks", {})
    if buffer_deg not in kept:
        kept[buffer_deg] = (area.buffer(buffer_deg) if buffer_deg else area).prepared
    return kept[buffer_deg]


def geometry_check(
    *, geometry: GEOSGeometry, allowed_types: frozenset[str], area: GEOSGeometry | None, tolerance_deg: float = 0.0
) -> None:
    """Raise ValidationError (field "geometry") unless the geometry is fit to store.

    `area` is the polygon the geometry must lie in (the province); None skips that check.
    """
    if geometry is None or geometry.empty:
        raise ValidationError({"geometry": _("The geometry is empty.")})
    if geometry.srid != 4326:
        raise ValidationError(
            {"geometry": _("Coordinates must be WGS84 longitude/latitude (EPSG:4326), got SRID %(srid)s.") % {"srid": geometry.srid}}
        )
    if geometry.num_coords > MAX_VERTICES:
        raise ValidationError(
            {"geometry": _("The geometry has %(count)s vertices; at most %(max)s are accepted.") % {"count": geometry.num_coords, "max": MAX_VERTICES}}
        )
    if geometry.geom_type.upper() not in allowed_types:
        raise ValidationError(
            {"geometry": _("A %(kind)s geometry is not allowed for this category (allowed: %(allowed)s).")
             % {"kind": geometry.geom_type, "allowed": ", ".join(sorted(allowed_types))}}
        )
    extent = geometry.extent
    if not (-180 <= extent[0] <= extent[2] <= 180 and -90 <= extent[1] <= extent[3] <= 90):
        raise ValidationError({"geometry": _("Coordinates are outside longitude ±180° / latitude ±90°; are longitude and latitude swapped?")})
    if not geometry.valid:
        raise ValidationError({"geometry": _("The geometry is invalid: %(reason)s.") % {"reason": geometry.valid_reason}})
    if area is not None:
        fits = _prepared(area).contains(geometry) or (
            tolerance_deg > 0 and _prepared(area, tolerance_deg).contains(geometry)
        )
        if not fits:
            raise ValidationError({"geometry": _("The geometry lies outside Lai Châu province; are longitude and latitude swapped?")})
