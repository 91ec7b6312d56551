"""The history is append-only and hash-chained; verify_audit names the first broken row."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from infra.audit.chain import GENESIS, entry_hash, verify_chain
from infra.audit.models import AuditEntry
from infra.works.choices import Category, Stage
from infra.works.models import Work
from infra.works.services import work_create, work_stage_change, work_update
from tests.factories import PHONG_THO_POINT, UserFactory
from tests.infra.audit import without_guard

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def edited_work(reference):
    board = UserFactory(username="ban-qlda")
    work = work_create(user=board, code="AU-1", name="Nhà văn hóa bản Lả", category=Category.CULTURE,
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022, stage_date=date(2022, 8, 3),
                       total_investment=900_000_000)
    work = work_update(work=work, user=board, expected_version=work.version, total_investment=950_000_000)
    work_stage_change(work=work, user=board, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    return Work.objects.get(pk=work.pk)


def test_every_change_gets_a_chained_entry_with_who_and_before_after(edited_work):
    entries = list(AuditEntry.objects.filter(model_label="works.Work", object_pk=str(edited_work.pk)).order_by("seq"))
    assert [e.action for e in entries] == ["+", "~", "~"]
    edit = entries[1]
    assert edit.username == "ban-qlda"
    assert (edit.before["total_investment"], edit.after["total_investment"]) == (900_000_000, 950_000_000)
    chain = list(AuditEntry.objects.order_by("seq"))
    assert chain[0].prev_hash == GENESIS or chain[0].seq > 1
    for earlier, later in zip(chain, chain[1:]):
        assert later.prev_hash == earlier.hash
        assert entry_hash(later) == later.hash


def test_verify_audit_passes_on_clean_data(edited_work, capsys):
    call_command("verify_audit")
    assert "Audit chain intact" in capsys.readouterr().out


def test_history_rows_cannot_be_updated(edited_work):
    history = edited_work.history.model
    with pytest.raises(DatabaseError), transaction.atomic():
        history.objects.filter(id=edited_work.pk).update(name="sửa lén")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(username="ai đó")
    assert not history.objects.filter(name="sửa lén").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="deletion is refused in the database on PostgreSQL")
def test_history_rows_cannot_be_deleted_on_postgres(edited_work):
    with pytest.raises(DatabaseError), transaction.atomic():
        edited_work.history.all().delete()
    assert edited_work.history.count() == 3


def test_verify_audit_names_the_history_row_altered_with_raw_sql(edited_work):
    history = edited_work.history.model
    target = edited_work.history.order_by("history_id")[1]
    without_guard(history._meta.db_table, f'UPDATE "{history._meta.db_table}" SET total_investment = %s WHERE history_id = %s',
                   [1, target.history_id])
    entry = AuditEntry.objects.get(history_model=history._meta.label, history_id=target.history_id)
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    message = str(caught.value)
    assert f"#{entry.seq} " in message
    assert "history row was altered" in message
    checked, broken = verify_chain()
    assert broken.seq == entry.seq and checked == entry.seq - AuditEntry.objects.order_by("seq").first().seq


def test_verify_audit_names_an_altered_audit_entry(edited_work):
    entry = AuditEntry.objects.filter(model_label="works.Work").order_by("seq")[1]
    table = AuditEntry._meta.db_table
    without_guard(table, f'UPDATE "{table}" SET username = %s WHERE seq = %s', ["ke-gian", entry.seq])
    checked, broken = verify_chain()
    assert (broken.seq, broken.reason) == (entry.seq, "entry_altered")


def test_a_column_added_later_is_not_tampering(edited_work):
    # An entry written before a migration added a column: the row now has it, empty.
    entry = AuditEntry.objects.filter(model_label="works.Work").order_by("seq").first()
    from infra.audit.chain import _same_row

    assert _same_row({**entry.after, "new_column": None}, entry.after)
    assert not _same_row({**entry.after, "new_column": "value"}, entry.after)
    assert not _same_row({k: v for k, v in entry.after.items() if k != "name"}, entry.after)
