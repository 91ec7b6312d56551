"""Money rules hold in the services and, behind them, in the database itself."""
from __future__ import annotations

from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from infra.finance.models import Allocation, CapitalKind, CapitalPlan, Disbursement, ProgrammeNode
from infra.finance.services import (
    allocation_available,
    allocation_create,
    allocation_reverse,
    disbursement_create,
    disbursement_reverse,
    plan_unallocated,
)
from infra.works.choices import Category, Stage
from infra.works.services import work_create, work_stage_change
from tests.factories import PHONG_THO_POINT, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def plan(reference):
    return CapitalPlan.objects.get(year=2022, kind=CapitalKind.INVESTMENT)


@pytest.fixture
def line(reference):
    return ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")


@pytest.fixture
def board():
    return UserFactory(username="ke-toan-ban")


@pytest.fixture
def work(reference, board):
    work = work_create(user=board, code="M-1", name="Trạm y tế bản Mới", category=Category.HEALTH,
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022,
                       stage_date=date(2022, 8, 5), total_investment=2_000_000_000)
    work_stage_change(work=work, user=board, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    return work


@pytest.fixture
def allocation(plan, line, work, board):
    return allocation_create(capital_plan=plan, programme_line=line, work=work, amount=1_500_000_000,
                             allocated_on=date(2022, 10, 1), user=board, decision_number="55/QĐ-UBND")


def test_allocation_over_the_plan_is_refused_and_nothing_is_written(plan, line, work, board):
    with pytest.raises(ValidationError) as caught:
        allocation_create(capital_plan=plan, programme_line=line, work=work, amount=plan.amount + 1,
                          allocated_on=date(2022, 10, 1), user=board)
    assert "exceeds what remains of the capital plan" in " ".join(caught.value.messages)
    assert not Allocation.objects.exists()


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_non_positive_or_fractional_amounts_are_refused(plan, line, work, board, amount):
    with pytest.raises(ValidationError):
        allocation_create(capital_plan=plan, programme_line=line, work=work, amount=amount,
                          allocated_on=date(2022, 10, 1), user=board)
    assert not Allocation.objects.exists()


def test_no_money_for_a_proposed_work(plan, line, board, reference):
    proposed = work_create(user=board, code="M-2", name="Đề xuất", category=Category.HEALTH,
                           geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2023, stage_date=date(2023, 1, 1))
    with pytest.raises(ValidationError):
        allocation_create(capital_plan=plan, programme_line=line, work=proposed, amount=1,
                          allocated_on=date(2023, 2, 1), user=board)
    assert not Allocation.objects.exists()


def test_payment_over_the_allocation_is_refused_and_nothing_is_written(allocation, board):
    disbursement_create(allocation=allocation, amount=1_000_000_000, paid_on=date(2023, 1, 5), voucher_number="PC-1", user=board)
    with pytest.raises(ValidationError) as caught:
        disbursement_create(allocation=allocation, amount=500_000_001, paid_on=date(2023, 2, 5), voucher_number="PC-2", user=board)
    assert "exceeds what remains of the allocation" in " ".join(caught.value.messages)
    assert list(Disbursement.objects.values_list("voucher_number", flat=True)) == ["PC-1"]


def test_payment_needs_a_voucher_and_a_date_not_before_its_allocation(allocation, board):
    with pytest.raises(ValidationError):
        disbursement_create(allocation=allocation, amount=1, paid_on=date(2023, 1, 5), voucher_number=" ", user=board)
    with pytest.raises(ValidationError):
        disbursement_create(allocation=allocation, amount=1, paid_on=date(2022, 1, 5), voucher_number="PC-9", user=board)
    assert not Disbursement.objects.exists()


def test_reversal_is_a_new_row_and_the_old_figure_stays(allocation, board):
    payment = disbursement_create(allocation=allocation, amount=700_000_000, paid_on=date(2023, 1, 5),
                                  voucher_number="PC-1", user=board)
    reversal = disbursement_reverse(disbursement=payment, on=date(2023, 1, 9), reason="Sai số tiền", voucher_number="PC-1-H",
                                    user=board)
    assert reversal.reverses == payment and reversal.amount == payment.amount
    payment.refresh_from_db()
    assert payment.amount == 700_000_000
    assert allocation_available(allocation=allocation) == allocation.amount
    with pytest.raises(ValidationError):
        disbursement_reverse(disbursement=payment, on=date(2023, 1, 10), reason="lần hai", voucher_number="X", user=board)
    assert Disbursement.objects.count() == 2


def test_allocation_reversal_cannot_take_back_paid_money(allocation, plan, board):
    before = plan_unallocated(capital_plan=plan)
    disbursement_create(allocation=allocation, amount=1_000_000_000, paid_on=date(2023, 1, 5), voucher_number="PC-1", user=board)
    with pytest.raises(ValidationError):
        allocation_reverse(allocation=allocation, amount=600_000_000, on=date(2023, 2, 1), reason="Điều chỉnh", user=board)
    taken_back = allocation_reverse(allocation=allocation, on=date(2023, 2, 1), reason="Điều chỉnh", user=board)
    assert taken_back.amount == 500_000_000
    assert plan_unallocated(capital_plan=plan) == before + 500_000_000
    assert allocation_available(allocation=allocation) == 0


def _refused_by_database(action):
    with pytest.raises(IntegrityError), transaction.atomic():
        action()


def test_database_refuses_allocation_over_plan_written_around_the_services(plan, line, work):
    _refused_by_database(lambda: Allocation.objects.create(capital_plan=plan, programme_line=line, work=work,
                                                           amount=plan.amount + 1, allocated_on=date(2022, 10, 1)))
    assert not Allocation.objects.exists()


def test_database_refuses_payment_over_allocation_written_around_the_services(allocation):
    _refused_by_database(lambda: Disbursement.objects.create(allocation=allocation, amount=allocation.amount + 1,
                                                             paid_on=date(2023, 1, 1), voucher_number="RAW-1"))
    assert not Disbursement.objects.exists()


def test_database_refuses_editing_money(allocation, board):
    payment = disbursement_create(allocation=allocation, amount=5, paid_on=date(2023, 1, 5), voucher_number="PC-1", user=board)
    _refused_by_database(lambda: Allocation.objects.filter(pk=allocation.pk).update(amount=1))
    _refused_by_database(lambda: Disbursement.objects.filter(pk=payment.pk).update(amount=4))
    allocation.refresh_from_db()
    payment.refresh_from_db()
    assert (allocation.amount, payment.amount) == (1_500_000_000, 5)


def test_database_refuses_lowering_a_plan_below_its_allocations(allocation, plan):
    original_amount = plan.amount
    _refused_by_database(lambda: CapitalPlan.objects.filter(pk=plan.pk).update(amount=allocation.amount - 1))
    plan.refresh_from_db()
    assert plan.amount == original_amount


@pytest.mark.skipif(connection.vendor != "postgresql", reason="deletion is guarded in the database on PostgreSQL")
def test_postgres_refuses_deleting_money(allocation):
    _refused_by_database(lambda: Allocation.objects.filter(pk=allocation.pk).delete())
    assert Allocation.objects.filter(pk=allocation.pk).exists()


def test_an_allocation_dated_in_year_25_is_refused_and_nothing_is_written(plan, line, work, board):
    before = Allocation.objects.count()
    with pytest.raises(ValidationError) as caught:
        allocation_create(capital_plan=plan, programme_line=line, work=work, amount=1_000_000,
                          allocated_on=date(25, 10, 1), user=board)
    assert "1900" in caught.value.message_dict["allocated_on"][0]
    assert Allocation.objects.count() == before


def test_database_holds_a_reversal_to_what_it_reverses_written_around_the_services(plan, line, work, allocation, board):
    # The reconciliation counts a reversal against the row it reverses; the map, exports and a work's page count it
    # on its own row's work and line. Written around the services on another work, line or demo flag, the two
    # would disagree: the database refuses it, as it refused another plan.
    other = work_create(user=board, code="M-2", name="Trường bản Mới", category=Category.SCHOOL,
                        geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022, stage_date=date(2022, 8, 5))
    other_line = ProgrammeNode.objects.exclude(pk=line.pk).first()
    base = {"capital_plan": plan, "programme_line": line, "work": work, "amount": 100_000_000,
            "allocated_on": date(2023, 1, 5), "reverses": allocation, "note": "Điều chỉnh"}
    for changed in ({"work": other}, {"work": None}, {"programme_line": other_line}, {"is_demo": True}):
        _refused_by_database(lambda changed=changed: Allocation.objects.create(**{**base, **changed}))
    assert not Allocation.objects.filter(reverses=allocation).exists()
    Allocation.objects.create(**base)  # the same work, line and flag: accepted
    payment = disbursement_create(allocation=allocation, amount=200_000_000, paid_on=date(2023, 1, 10), voucher_number="PC-20",
                                  user=board)
    _refused_by_database(lambda: Disbursement.objects.create(allocation=allocation, amount=200_000_000, paid_on=date(2023, 1, 11),
                                                             voucher_number="PC-20-HUY", reverses=payment, is_demo=True))
    assert not Disbursement.objects.filter(reverses=payment).exists()


def test_database_refuses_editing_a_money_row_s_demo_flag(allocation, board):
    # What a money row says is never edited (0002); its demo flag now neither, so no UPDATE around the services
    # turns a real payment into a demo one, or a reversal's flag away from its original's.
    payment = disbursement_create(allocation=allocation, amount=100_000_000, paid_on=date(2023, 1, 10), voucher_number="PC-30",
                                  user=board)
    _refused_by_database(lambda: Allocation.objects.filter(pk=allocation.pk).update(is_demo=True))
    _refused_by_database(lambda: Disbursement.objects.filter(pk=payment.pk).update(is_demo=True))
    assert not Allocation.objects.get(pk=allocation.pk).is_demo and not Disbursement.objects.get(pk=payment.pk).is_demo
    Allocation.objects.filter(pk=allocation.pk).update(note="Ghi chú sửa")  # a note is not what the row says
    assert Allocation.objects.get(pk=allocation.pk).note == "Ghi chú sửa"


def test_a_control_character_in_a_voucher_or_note_is_refused_and_nothing_is_written(allocation, board):
    for fields, field in (({"voucher_number": "PC\x0b1"}, "voucher_number"), ({"note": "Tạm\x1fứng"}, "note")):
        with pytest.raises(ValidationError) as caught:
            disbursement_create(allocation=allocation, amount=1, paid_on=date(2023, 1, 5), user=board,
                                **{"voucher_number": "PC-1", **fields})
        assert "U+00" in " ".join(caught.value.message_dict[field])
    with pytest.raises(ValidationError) as caught:
        allocation_reverse(allocation=allocation, amount=1, on=date(2023, 2, 1), reason="Điều\x0bchỉnh", user=board)
    assert "note" in caught.value.message_dict
    assert not Disbursement.objects.exists() and Allocation.objects.count() == 1


def test_figures_stored_before_the_text_rule_can_still_be_reversed(allocation, board):
    # A decision or voucher number stored with a control character (before such text was refused, or written
    # around the services) is copied into its reversal: the reversal must not be refused for it.
    payment = Disbursement.objects.create(allocation=allocation, amount=5, paid_on=date(2023, 1, 5),
                                          voucher_number="PC\x0b7", recorded_by=board)
    reversal = disbursement_reverse(disbursement=payment, on=date(2023, 1, 9), reason="Sai", voucher_number="", user=board)
    assert reversal.voucher_number == "PC\x0b7-HUY" and reversal.amount == 5
    with pytest.raises(ValidationError):  # a voucher number typed for the reversal is still checked
        disbursement_reverse(disbursement=Disbursement.objects.create(
            allocation=allocation, amount=6, paid_on=date(2023, 1, 5), voucher_number="PC-8", recorded_by=board),
            on=date(2023, 1, 9), reason="Sai", voucher_number="PC\x0b8-H", user=board)
    old = Allocation.objects.create(capital_plan=allocation.capital_plan, programme_line=allocation.programme_line,
                                    work=allocation.work, amount=1_000, allocated_on=date(2022, 10, 2),
                                    decision_number="56\x0bQĐ", recorded_by=board)
    taken_back = allocation_reverse(allocation=old, on=date(2023, 2, 1), reason="Điều chỉnh", user=board)
    assert (taken_back.decision_number, taken_back.amount) == ("56\x0bQĐ", 1_000)


def test_a_reversal_of_a_long_voucher_number_keeps_within_the_column(allocation, board):
    # "<voucher>-HUY" of an 80-character voucher was 84 characters: a 500 on PostgreSQL, an over-long value on SQLite.
    payment = disbursement_create(allocation=allocation, amount=7, paid_on=date(2023, 1, 5), voucher_number="P" * 80,
                                  user=board)
    reversal = disbursement_reverse(disbursement=payment, on=date(2023, 1, 9), reason="Sai", voucher_number="", user=board)
    assert reversal.voucher_number == "P" * 76 + "-HUY"
    assert Disbursement.objects.get(pk=reversal.pk).voucher_number == "P" * 76 + "-HUY"


def test_a_reversals_voucher_number_is_one_not_taken_on_its_allocation(allocation, board):
    # Cut to fit, two long vouchers gave one reversal number; a payment typed "PC01-HUY" took PC01's: both a 500.
    first = disbursement_create(allocation=allocation, amount=1, paid_on=date(2023, 1, 5), voucher_number="P" * 77 + "A",
                                user=board)
    second = disbursement_create(allocation=allocation, amount=1, paid_on=date(2023, 1, 5), voucher_number="P" * 77 + "B",
                                 user=board)
    one = disbursement_reverse(disbursement=first, on=date(2023, 1, 9), reason="Sai", voucher_number="", user=board)
    two = disbursement_reverse(disbursement=second, on=date(2023, 1, 9), reason="Sai", voucher_number="", user=board)
    assert (one.voucher_number, two.voucher_number) == ("P" * 76 + "-HUY", "P" * 75 + "-HUY2")
    plain = disbursement_create(allocation=allocation, amount=1, paid_on=date(2023, 1, 5), voucher_number="PC01", user=board)
    disbursement_create(allocation=allocation, amount=1, paid_on=date(2023, 1, 5), voucher_number="PC01-HUY", user=board)
    assert disbursement_reverse(disbursement=plain, on=date(2023, 1, 9), reason="Sai", voucher_number="",
                                user=board).voucher_number == "PC01-HUY2"
