"""Queries about works."""
from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import QuerySet

from gis.layers import Layer, feature_collection, json_bool
from gis.models import AdminUnit, AdminUnitLevel
from infra.accounts.policy import works_visible
from infra.works.models import Work


def province_area() -> GEOSGeometry | None:
    """Return the province outline works must lie in, or None before reference data is loaded."""
    province = (
        AdminUnit.objects.filter(level=AdminUnitLevel.PROVINCE, code=settings.PROVINCE_CODE, valid_to__isnull=True)
        .only("boundary")
        .first()
    )
    return province.boundary if province and province.boundary else None


def commune_for_geometry(*, geometry: GEOSGeometry) -> AdminUnit | None:
    """Return today's commune that holds the geometry (by a point on it), or None."""
    # A line or polygon may cross a boundary; the point on its surface decides, as a surveyor would.
    anchor = geometry.point_on_surface
    anchor.srid = geometry.srid
    return (
        AdminUnit.objects.current()
        .filter(level=AdminUnitLevel.COMMUNE, boundary__contains=anchor)
        .order_by("code")
        .first()
    )


def works_visible_to(*, user) -> QuerySet[Work]:
    """Return the works a person may see (the access policy decides)."""
    return works_visible(user)


def works_geojson(*, user, works: QuerySet[Work] | None = None) -> str:
    """Return the works the person may see as a GeoJSON FeatureCollection built in the database."""
    visible = works_visible(user, works)
    subquery, params = visible.values("id").query.sql_with_params()
    layer = Layer(
        table=Work._meta.db_table,
        properties={
            "code": "t.code", "name": "t.name", "category": "t.category", "stage": "t.stage", "progress": "t.progress",
            "year": "t.approved_year", "total_investment": "t.total_investment", "commune": "c.name",
            "is_demo": json_bool("t.is_demo"),
        },
        joins=f"LEFT JOIN {AdminUnit._meta.db_table} c ON c.id = t.current_commune_id",
    )
    # The policy's queryset becomes a subquery, so the map shows exactly what the policy allows.
    return feature_collection(layer, where=f"t.id IN ({subquery})", params=params)
