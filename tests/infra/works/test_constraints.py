"""The database itself refuses bad works, on PostGIS and SpatiaLite alike, and writes nothing."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.gis.geos import LineString, Point, Polygon
from django.db import IntegrityError, transaction

from infra.works.choices import Category
from infra.works.models import Work
from tests.factories import WorkFactory

pytestmark = pytest.mark.django_db

BOWTIE = Polygon(((103.36, 22.53), (103.37, 22.54), (103.37, 22.53), (103.36, 22.54), (103.36, 22.53)), srid=4326)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"total_investment": -1}, id="negative-investment"),
        pytest.param({"progress": 101}, id="progress-101"),
        pytest.param({"category": Category.HEALTH, "geometry": LineString((103.36, 22.53), (103.37, 22.54), srid=4326)}, id="line-for-health-station"),
        pytest.param({"category": Category.ROAD, "geometry": Point(103.36, 22.53, srid=4326)}, id="point-for-road"),
        pytest.param({"category": Category.SCHOOL, "geometry": BOWTIE}, id="self-intersecting-polygon"),
        pytest.param({"planned_start": date(2023, 5, 1), "planned_end": date(2023, 4, 1)}, id="planned-dates-reversed"),
        pytest.param({"actual_start": date(2023, 5, 1), "actual_end": date(2022, 1, 1)}, id="actual-dates-reversed"),
        pytest.param({"beneficiary_households": 10, "beneficiary_poor_households": 11}, id="more-poor-than-households"),
        pytest.param({"special_mechanism": True, "total_investment": 5_000_000_001}, id="special-mechanism-over-5bn"),
    ],
)
def test_database_refuses_bad_work_and_writes_nothing(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkFactory(**fields)
    assert not Work.objects.exists()


def test_database_accepts_a_sound_work():
    work = WorkFactory(total_investment=3_000_000_000, progress=100, special_mechanism=True,
                       planned_start=date(2022, 9, 1), planned_end=date(2023, 6, 30))
    assert Work.objects.filter(pk=work.pk).exists()


def test_geometry_column_keeps_srid_4326():
    work = WorkFactory()
    work.refresh_from_db()
    assert work.geometry.srid == 4326
