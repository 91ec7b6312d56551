"""Stored features (infra.works.features): every change to what a listed work shows reaches its stored
text in the same transaction, whoever makes it; a page built from stored texts is the page built live."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import date

import pytest
from django.db import connection, connections, transaction

from gis.layers import feature_collection, feature_page
from gis.models import AdminUnit
from infra.finance.models import Allocation
from infra.finance.services import allocation_reverse, disbursement_create, disbursement_reverse
from infra.maintenance.models import Record
from infra.maintenance.services import record_create
from infra.works import features
from infra.works.choices import Stage
from infra.works.models import Work, WorkFeature
from infra.works.selectors import works_layer, works_match
from infra.works.services import work_stage_change, work_update
from tests.factories import WorkFactory
from tests.infra.api.register import build_register
from tests.infra.works.held import run_while_held

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="stored features are kept on PostGIS only"),
]


@pytest.fixture
def register(reference):
    return build_register()


def stored(work: Work) -> dict:
    return json.loads(WorkFeature.objects.get(pk=work.pk).feature)


def live(work: Work) -> dict:
    layer = dataclasses.replace(works_layer(), stored="")
    return json.loads(feature_collection(layer, where="t.id = %s", params=[work.pk]))["features"][0]


def assert_current(*works: Work) -> None:
    assert features.stale() == []
    for work in works:
        assert stored(work) == live(work)


def test_every_work_has_its_feature_as_the_live_layer_builds_it(register):
    assert WorkFeature.objects.count() == Work.objects.count() == len(register.works)
    assert_current(*register.works.values())
    a1 = stored(register["A-1"])["properties"]
    assert (a1["allocated"], a1["disbursed"], a1["last_maintenance"]) == (2_000_000_000, 500_000_000, "2025-03-01")


def test_work_changes_through_the_services_reach_the_stored_text(register):
    work = register["R-1"]
    work_update(work=work, user=None, expected_version=work.version, name="Đường bản Nà Giàng (đoạn 2)", progress=40)
    assert (stored(work)["properties"]["name"], stored(work)["properties"]["progress"]) == ("Đường bản Nà Giàng (đoạn 2)", 40)
    work.refresh_from_db()
    work_stage_change(work=work, user=None, to_stage=Stage.COMPLETED, occurred_on=date(2025, 5, 2))
    assert (stored(work)["properties"]["stage"], stored(work)["properties"]["progress"]) == (Stage.COMPLETED, 100)
    assert_current(work)


def test_money_and_upkeep_reach_the_stored_text(register):
    work = register["A-1"]
    allocation = Allocation.objects.get(work=work, reverses__isnull=True)
    payment = disbursement_create(allocation=allocation, amount=250_000_000, paid_on=date(2023, 6, 1),
                                  voucher_number="PC-10", user=None)
    assert stored(work)["properties"]["disbursed"] == 750_000_000
    disbursement_reverse(disbursement=payment, on=date(2023, 7, 1), reason="sai chứng từ", voucher_number="PC-10H",
                         user=None)
    assert stored(work)["properties"]["disbursed"] == 500_000_000
    allocation_reverse(allocation=allocation, amount=100_000_000, on=date(2023, 8, 1), reason="điều chỉnh", user=None)
    assert stored(work)["properties"]["allocated"] == 1_900_000_000
    record_create(user=None, work=work, done_on=date(2025, 9, 9), cost=1_000_000, description="Thay bóng đèn")
    assert stored(work)["properties"]["last_maintenance"] == "2025-09-09"
    Record.objects.filter(work=work, done_on=date(2025, 9, 9)).delete()
    assert stored(work)["properties"]["last_maintenance"] == "2025-03-01"
    assert_current(work)


def test_changes_outside_the_services_reach_it_too(register):
    # A bulk update (one statement over many rows), a commune renamed by a geography import, plain SQL.
    Work.objects.update(progress=55)
    assert {stored(w)["properties"]["progress"] for w in register.works.values()} == {55}
    commune = AdminUnit.objects.get(pk=register["A-1"].current_commune_id)
    AdminUnit.objects.filter(pk=commune.pk).update(name="Phong Thổ (tên mới)")
    assert stored(register["A-1"])["properties"]["commune"] == "Phong Thổ (tên mới)"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE works_work SET name = %s WHERE code = %s", ["Tên đổi bằng SQL", "B-1"])
    assert stored(register["B-1"])["properties"]["name"] == "Tên đổi bằng SQL"
    assert_current(*register.works.values())


def test_a_change_rolled_back_leaves_the_stored_text_as_it_was(register):
    work = register["S-1"]
    before = stored(work)
    with pytest.raises(RuntimeError), transaction.atomic():
        Work.objects.filter(pk=work.pk).update(name="không lưu")
        assert stored(work)["properties"]["name"] == "không lưu"
        raise RuntimeError
    assert stored(work) == before


def test_a_work_written_straight_to_the_table_gets_its_text_and_takes_it_when_deleted(register):
    work = WorkFactory(name="Ghi thẳng vào bảng")
    assert stored(work)["properties"]["name"] == "Ghi thẳng vào bảng"
    assert_current(work)
    Work.objects.filter(pk=work.pk).delete()
    assert not WorkFeature.objects.filter(pk=work.pk).exists()
    assert features.stale() == []


def test_stale_finds_a_text_that_differs_and_rebuild_mends_it(register):
    tampered, missing = register["A-1"], register["S-1"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE works_workfeature SET feature = replace(feature, '4103750000', '4103750001') WHERE id = %s",
                       [tampered.pk])
        cursor.execute("DELETE FROM works_workfeature WHERE id = %s", [missing.pk])
    assert features.stale() == sorted([tampered.pk, missing.pk])
    assert features.rebuild() == len(register.works)
    assert_current(*register.works.values())


def test_a_page_from_stored_texts_equals_the_page_built_live(register, caplog):
    layer = works_layer()
    live_layer = dataclasses.replace(layer, stored="")
    match = works_match(Work.objects.all())
    assert json.loads(feature_page(layer, match=match, limit=100).text) == json.loads(
        feature_page(live_layer, match=match, limit=100).text)
    assert not caplog.records
    # A page missing a stored text is built from the table instead, never left short, and it is logged.
    WorkFeature.objects.filter(pk=register["Q-1"].pk).delete()
    for limit, offset, cap in [(3, 0, 10_000), (100, 2, 10_000), (2, 0, 3), (5, 50, 10_000)]:
        got = feature_page(layer, match=match, limit=limit, offset=offset, count_cap=cap)
        want = feature_page(live_layer, match=match, limit=limit, offset=offset, count_cap=cap)
        assert json.loads(got.text) == json.loads(want.text)
        assert (got.matched, got.returned) == (want.matched, want.returned)
    assert json.loads(feature_collection(layer, match=match)) == json.loads(feature_collection(live_layer, match=match))
    page = json.loads(feature_page(layer, match=match, limit=2, count_cap=3).text)
    assert "numberMatched" not in page and page["numberReturned"] == 2
    assert any("lacks 1 of the features" in r.getMessage() for r in caplog.records)


def test_install_rebuilds_every_text_when_the_feature_sql_changed(register):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE works_workfeature SET feature = '{}'")
        assert features.install(connection) is False  # same SQL: nothing rebuilt
        assert len(features.stale()) == len(register.works)
        cursor.execute("COMMENT ON FUNCTION works_feature_refresh(bigint[]) IS 'an older version'")
    assert features.install(connection) is True
    assert_current(*register.works.values())


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_one_work_at_once_leave_its_text_with_both_changes():
    # The first records later upkeep and stays open; the second records earlier upkeep meanwhile. Built
    # without the first's row, the second's text would say 2025-09-01 after both commit.
    work = WorkFactory(name="Hai người cùng ghi")

    def record(done_on: date):
        return lambda: Record.objects.create(work_id=work.pk, done_on=done_on, cost=0, description=f"việc {done_on}")

    run_while_held(record(date(2025, 10, 1)), record(date(2025, 9, 1)))
    assert stored(work)["properties"]["last_maintenance"] == "2025-10-01"
    assert features.stale() == []


def test_a_work_deleted_with_plain_sql_takes_its_text(register):
    work = WorkFactory(name="Xóa bằng SQL")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM works_work WHERE id = %s", [work.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign key, checked now rather than at commit
    assert not WorkFeature.objects.filter(pk=work.pk).exists()


def test_a_migration_may_alter_the_columns_the_texts_read(register):
    # The triggers name no column, so widening a commune's name is not refused; the texts still follow.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE geo_adminunit ALTER COLUMN name TYPE varchar(300)")
    AdminUnit.objects.filter(pk=register["A-1"].current_commune_id).update(name="Phong Thổ " + "x" * 250)
    assert stored(register["A-1"])["properties"]["commune"] == "Phong Thổ " + "x" * 250


@pytest.mark.django_db(transaction=True)
def test_migrating_back_before_the_texts_and_forward_again_keeps_writes_working():
    from django.core.management import call_command

    work = WorkFactory(name="Trước")
    try:
        call_command("migrate", "works", "0004", verbosity=0)
        with connection.cursor() as cursor:  # no trigger left to write into a table that is gone
            cursor.execute("UPDATE works_work SET name = 'Sau khi lùi' WHERE id = %s", [work.pk])
    finally:
        call_command("migrate", verbosity=0)
    assert stored(work)["properties"]["name"] == "Sau khi lùi"  # rebuilt after the migrations
    Work.objects.filter(pk=work.pk).update(name="Sau khi tiến")
    assert stored(work)["properties"]["name"] == "Sau khi tiến"
    assert features.stale() == []


@pytest.mark.django_db(transaction=True)
def test_a_full_rebuild_during_a_write_does_not_undo_it():
    work = WorkFactory(name="Tên cũ")
    run_while_held(lambda: Work.objects.filter(pk=work.pk).update(name="Tên mới"), features.rebuild)
    assert stored(work)["properties"]["name"] == "Tên mới"
    assert features.stale() == []


@pytest.mark.django_db(transaction=True)
def test_a_commune_renamed_while_a_work_moves_into_it(reference):
    # The move is written first and held open; the rename waits for it, then finds the work in the commune.
    target = AdminUnit.objects.filter(level="commune", valid_to__isnull=True).order_by("code").first()
    work = WorkFactory(name="Chuyển xã")
    run_while_held(lambda: Work.objects.filter(pk=work.pk).update(current_commune=target),
                    lambda: AdminUnit.objects.filter(pk=target.pk).update(name="Xã tên mới"))
    assert stored(work)["properties"]["commune"] == "Xã tên mới"
    assert features.stale() == []


def test_the_command_checks_and_rebuilds_the_texts(register):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("stored_features", stdout=out)
    assert out.getvalue().strip()  # every text matches
    WorkFeature.objects.filter(pk=register["A-1"].pk).update(feature="{}")
    with pytest.raises(CommandError, match=str(register["A-1"].pk)):
        call_command("stored_features")
    call_command("stored_features", "--rebuild", stdout=StringIO())
    call_command("stored_features", stdout=StringIO())
    assert features.stale() == []
