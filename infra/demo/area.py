"""The real geography the demo is drawn on, read once from the reference data."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.gis.geos.prepared import PreparedGeometry
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from gis.models import AdminUnit, AdminUnitLevel, BaseRoad
from infra.demo import DEMO_COMMUNE_CODES
from infra.demo.spatial import XY, metric

__all__ = ["CommuneArea", "DemoArea", "demo_area"]

PHONG_THO_DISTRICT_CODE = "109"
# Villages keep this far inside their commune (and the former district), so that a rounding or a
# short work drawn from them cannot end up across a boundary.
INSET_M = 300.0


@dataclass
class CommuneArea:
    """A current commune with the part of it that was former Phong Thổ, in metres."""

    unit: AdminUnit
    region: BaseGeometry
    centre: XY
    predecessors: list[AdminUnit]

    @property
    def code(self) -> str:
        return self.unit.code

    @property
    def in_text(self) -> str:
        """Return the name as it reads in a sentence: "xã Phong Thổ", "phường Đoàn Kết"."""
        return f"{self.unit.unit_type.lower()} {self.unit.name}"


@dataclass
class DemoArea:
    """The communes the demo fills, the province outline and the real roads to join."""

    communes: dict[str, CommuneArea]
    province: PreparedGeometry
    base_roads: list[tuple[str, str, BaseGeometry]]
    # Every current commune, by code, to place a geometry as works.selectors.commune_for_geometry does.
    current_boundaries: list[tuple[str, PreparedGeometry]] = field(default_factory=list)

    def commune_of(self, geometry: GEOSGeometry) -> str | None:
        """Return the code of today's commune holding the geometry's point on surface (lowest code wins)."""
        anchor = geometry.point_on_surface
        for code, boundary in self.current_boundaries:
            if boundary.contains(anchor):
                return code
        return None

    def fits(self, geometry: GEOSGeometry, *, commune_code: str) -> bool:
        """Return whether the services will accept the geometry and place it in that commune."""
        return self.place(geometry) == commune_code

    def place(self, geometry: GEOSGeometry) -> str | None:
        """Return the demo commune the services will place the geometry in, or None if they would refuse it."""
        if not geometry.valid or not self.province.contains(geometry):
            return None
        code = self.commune_of(geometry)
        return code if code in self.communes else None


def demo_area() -> DemoArea:
    """Read the province, the former district and today's communes from the database."""
    province = AdminUnit.objects.filter(level=AdminUnitLevel.PROVINCE, code=settings.PROVINCE_CODE, valid_to__isnull=True).first()
    district = AdminUnit.objects.filter(
        level=AdminUnitLevel.DISTRICT, code=PHONG_THO_DISTRICT_CODE, valid_to__isnull=False
    ).first()
    if province is None or province.boundary is None or district is None or district.boundary is None:
        raise CommandError(_("Reference data is missing: run manage.py load_reference first."))
    current = list(AdminUnit.objects.current().filter(level=AdminUnitLevel.COMMUNE, boundary__isnull=False).order_by("code"))
    by_code = {unit.code: unit for unit in current}
    missing = [code for code in DEMO_COMMUNE_CODES if code not in by_code]
    if missing:
        raise CommandError(_("Reference data lacks the communes %(codes)s.") % {"codes": ", ".join(missing)})
    district_m = metric(district.boundary)
    communes = {}
    for code in DEMO_COMMUNE_CODES:
        unit = by_code[code]
        # Only the part that was Phong Thổ: Đoàn Kết and Sin Suối Hồ also cover other former districts.
        region = metric(unit.boundary).intersection(district_m).buffer(-INSET_M)
        centre = metric(unit.centre)
        predecessors = sorted(
            (s.predecessor for s in unit.predecessions.select_related("predecessor") if s.predecessor.valid_to is not None),
            key=lambda former: former.code,
        )
        if not predecessors:
            raise CommandError(_("Commune %(code)s has no former unit in the reference data.") % {"code": code})
        communes[code] = CommuneArea(unit=unit, region=region, centre=(centre.x, centre.y), predecessors=predecessors)
    roads = [(road.code, road.name, metric(road.geometry)) for road in BaseRoad.objects.filter(is_demo=False).order_by("code")]
    return DemoArea(
        communes=communes,
        province=province.boundary.prepared,
        base_roads=roads,
        current_boundaries=[(unit.code, unit.boundary.prepared) for unit in current],
    )
