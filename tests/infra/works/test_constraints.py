"""The database itself refuses bad works, on PostGIS and SpatiaLite alike, and writes nothing."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.gis.geos import LineString, Point, Polygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from infra.works.choices import Category
from infra.works.models import Work
from tests.factories import PHONG_THO_POINT, WorkFactory

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


BREAKAGES = {
    "negative-investment": {"total_investment": -1},
    "progress-101": {"progress": 101},
    "line-for-health-station": {"category": Category.HEALTH,
                                "geometry": LineString((103.36, 22.53), (103.37, 22.54), srid=4326)},
    "self-intersecting-polygon": {"category": Category.SCHOOL, "geometry": BOWTIE},
    "planned-dates-reversed": {"planned_start": date(2023, 5, 1), "planned_end": date(2023, 4, 1)},
    "more-poor-than-households": {"beneficiary_households": 10, "beneficiary_poor_households": 11},
    "special-mechanism-over-5bn": {"special_mechanism": True, "total_investment": 5_000_000_001},
    "unknown-stage": {"stage": "finished"},
    "three-at-once": {"progress": -5, "planned_start": date(2023, 5, 1), "planned_end": date(2023, 4, 1),
                      "beneficiary_households": 1, "beneficiary_poor_households": 2},
}


def _messages(error) -> dict:
    return {field: sorted(str(m) for m in messages) for field, messages in error.message_dict.items()}


@pytest.mark.parametrize("fields", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_one_query_validation_reports_what_django_reports_constraint_by_constraint(fields):
    # Work.validate_constraints (infra.constraints.ValidationMixin) asks the database once for all
    # check constraints; Django's own Model.validate_constraints asks once per constraint.
    sound = WorkFactory()
    work = Work.objects.get(pk=sound.pk)
    for name, value in fields.items():
        setattr(work, name, value)
    with pytest.raises(ValidationError) as ours:
        work.validate_constraints()
    with pytest.raises(ValidationError) as django_own:
        models.Model.validate_constraints(work)
    assert _messages(ours.value) == _messages(django_own.value)
    assert ours.value.messages  # and something was said


def test_one_query_validation_passes_a_sound_work():
    work = Work.objects.get(pk=WorkFactory().pk)
    work.validate_constraints()
    work.full_clean()


def test_one_query_validation_skips_what_is_excluded_as_django_does():
    work = Work.objects.get(pk=WorkFactory().pk)
    work.progress = 101
    work.validate_constraints(exclude={"progress"})  # the only broken condition is about an excluded field
    models.Model.validate_constraints(work, exclude={"progress"})


# --- work_create: the INSERT decides the check constraints (infra.constraints.insert_checked) ----------

CREATED_BREAKAGES = {name: fields for name, fields in BREAKAGES.items() if "geometry" not in fields}


_VALUES = {"code": "C-1", "name": "Trạm y tế bản Nà Giàng", "category": Category.HEALTH,
           "geometry": Point(*PHONG_THO_POINT, srid=4326), "approved_year": 2026, "stage": "approved"}


def _create(**fields):
    from infra.works.services import work_create

    return work_create(user=None, **{**_VALUES, **fields})


@pytest.mark.parametrize("fields", CREATED_BREAKAGES.values(), ids=CREATED_BREAKAGES.keys())
def test_a_refused_new_work_gets_full_cleans_messages_and_leaves_nothing(reference, fields):
    from infra.audit.models import AuditEntry
    from infra.works.selectors import commune_for_geometry

    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as created:
        _create(**fields)
    assert not Work.objects.exists() and not Work.history.exists() and AuditEntry.objects.count() == entries
    # What full_clean says of the same work, unsaved.
    work = Work(**{**_VALUES, **fields})
    work.current_commune = commune_for_geometry(geometry=work.geometry)
    with pytest.raises(ValidationError) as cleaned:
        work.full_clean()
    assert _messages(created.value) == _messages(cleaned.value) and created.value.messages
    _create()  # the transaction is still usable: the refused INSERT went with its savepoint
    assert Work.objects.count() == 1


def test_a_sound_new_work_is_inserted_without_asking_for_its_checks_first(reference):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        work = _create(beneficiary_households=10, beneficiary_poor_households=10, progress=100)
    assert Work.objects.filter(pk=work.pk, progress=100).exists()
    assert not any("_check_0" in query["sql"] for query in captured.captured_queries)
