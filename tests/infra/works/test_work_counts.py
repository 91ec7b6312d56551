"""Exact numbers matched: a page of the whole register, or of some categories or stages, states how many
works match, for everyone, at any size; on PostGIS from the counts the database keeps (infra.works.features),
which follow every way works change and never make one writer wait for another."""
from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from gis.layers import feature_page
from infra.accounts.models import Role
from infra.accounts.policy import works_visible
from infra.works import features
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.selectors import WorkFilters, works_count, works_layer, works_match, works_matching
from tests.factories import WorkFactory, user_with_role
from tests.infra.works.held import run_while_held

pytestmark = pytest.mark.django_db
postgis_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the counts are kept on PostGIS only")

MIX = [(Category.HEALTH, Stage.APPROVED)] * 3 + [(Category.OTHER, Stage.UNDER_CONSTRUCTION)] * 2 + [
    (Category.HEALTH, Stage.PROPOSED), (Category.SCHOOL, Stage.CANCELLED), (Category.WATER, Stage.COMPLETED)]


def make(category: str, stage: str) -> Work:
    return WorkFactory(category=category, stage=stage)


@pytest.fixture
def mix(db):
    return [make(category, stage) for category, stage in MIX]


def kept() -> dict[tuple[str, str], int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT category, stage, sum(n) FROM {features.COUNTS} GROUP BY 1, 2 HAVING sum(n) <> 0")
        return {(c, s): int(n) for c, s, n in cursor.fetchall()}


def actual() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for category, stage in Work.objects.values_list("category", "stage"):
        found[category, stage] = found.get((category, stage), 0) + 1
    return found


def matched(client, query: str = "") -> int:
    return json.loads(client.get(f"/ogc/collections/works/items?limit=1{query}").content)["numberMatched"]


@pytest.mark.parametrize("role", [None, Role.BOARD, Role.AUDITOR, Role.PLANNER, Role.COMMUNE_OFFICER])
@pytest.mark.parametrize("query", ["", "&category=health", "&stage=approved,proposed", "&category=other&stage=approved"])
def test_number_matched_is_what_each_person_may_see(client, mix, role, query):
    user = AnonymousUser()
    if role:
        user = user_with_role(role)
        client.force_login(user)
    works = works_visible(user)
    for name, values in (("category", Category.values), ("stage", Stage.values)):
        for part in query.split("&"):
            if part.startswith(f"{name}="):
                chosen = [v for v in part.split("=")[1].split(",") if v in values]
                works = works.filter(**{f"{name}__in": chosen})
    assert matched(client, query) == works.count()
    assert json.loads(client.get(f"/api/works/?limit=1{query}").content)["numberMatched"] == works.count()


@postgis_only
def test_the_counts_follow_every_way_works_change(mix):
    assert kept() == actual() and features.count_errors() == []
    work = mix[0]
    work.stage = Stage.DESIGNED
    work.save(update_fields=["stage"])
    Work.objects.filter(stage=Stage.UNDER_CONSTRUCTION).update(stage=Stage.COMPLETED)  # a bulk update
    Work.objects.filter(pk=mix[1].pk).update(category=Category.SCHOOL)
    Work.objects.filter(pk=mix[2].pk).update(name="renamed only")  # no count changes
    insert("SQL-", Category.CULTURE, Stage.APPROVED, rows=5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM works_work WHERE code IN ('SQL-1', 'SQL-2')")
    mix[-1].delete()
    assert kept() == actual() and features.count_errors() == []
    assert kept()[Category.CULTURE, Stage.APPROVED] == 3


@postgis_only
def test_many_small_writes_are_folded_into_few_rows(db):
    for _ in range(2 * features._FOLD_EVERY + 10):
        make(Category.HEALTH, Stage.APPROVED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {features.COUNTS}")
        rows = cursor.fetchone()[0]
    assert rows < features._FOLD_EVERY
    assert kept() == {(Category.HEALTH, Stage.APPROVED): 2 * features._FOLD_EVERY + 10}


_INSERT = ("INSERT INTO works_work (code, name, category, description, internal_notes, school_level, water_source, "
           "road_class, road_surface, geometry, beneficiary_households, beneficiary_poor_households, beneficiary_women, "
           "special_mechanism, approved_year, total_investment, stage, progress, version, is_demo, created_at, updated_at) "
           "SELECT %s || g, 'by SQL', %s, '', '', '', '', '', '', ST_Point(103.4, 22.5, 4326), 0, 0, 0, false, 2024, 0, "
           "%s, 0, 1, false, now(), now() FROM generate_series(1, %s) g")


def insert(code: str, category: str, stage: str, rows: int = 1) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [code, category, stage, rows])


@postgis_only
@pytest.mark.django_db(transaction=True)
def test_two_writers_adding_works_do_not_wait_for_each_other():
    # Plain SQL, as an import tool would write: the services add the audit chain, which orders writers anyway.
    def second() -> None:
        # The same category and stage while the first has not committed: refused if it waits at all.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1ms'")
            insert("B-", Category.HEALTH, Stage.APPROVED, rows=2)
            cursor.execute("UPDATE works_work SET stage = 'designed' WHERE code = 'B-1'")

    run_while_held(lambda: insert("A-", Category.HEALTH, Stage.APPROVED, rows=3), second)
    assert kept() == actual() == {(Category.HEALTH, Stage.APPROVED): 4, (Category.HEALTH, Stage.DESIGNED): 1}
    assert features.count_errors() == []


@postgis_only
def test_a_count_gone_wrong_is_reported_and_rebuilt(mix, capsys):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {features.COUNTS} (category, stage, n) VALUES ('health', 'approved', 5)")
    assert features.count_errors() == [("health", "approved", 8, 3)]
    with pytest.raises(CommandError, match="health/approved"):
        call_command("stored_features")
    call_command("stored_features", "--rebuild")
    assert features.count_errors() == [] and kept() == actual()
    call_command("stored_features")
    assert "mọi số đếm lưu sẵn đều khớp" in capsys.readouterr().out


@postgis_only
def test_the_number_is_stated_past_the_count_cap(mix):
    user = AnonymousUser()
    filters = WorkFilters()
    page = feature_page(works_layer(), match=works_match(works_matching(user=user, filters=filters)), limit=2,
                        count_cap=2, exact_count=works_count(user=user, filters=filters))
    data = json.loads(page.text)
    assert page.matched == data["numberMatched"] == works_visible(user).count() == 6
    assert data["numberReturned"] == 2


def test_filters_the_counts_cannot_answer_are_counted(client, mix):
    # A year, a box or a time: counted from the works themselves, on both databases.
    assert works_count(user=AnonymousUser(), filters=WorkFilters(year=2022)) is None
    assert matched(client, "&bbox=100,10,110,25") == works_visible(AnonymousUser()).count()
    assert matched(client, "&datetime=2022-01-01/2022-12-31") == works_visible(AnonymousUser()).count()
    assert matched(client, "&datetime=2023-01-01/..") == 0
