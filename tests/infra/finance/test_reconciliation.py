"""Reconciliation: Plan 245 as stated, its 180-million gap, over-allocation and reversals."""
from __future__ import annotations

from datetime import date

import pytest

from infra.finance.models import Allocation, CapitalDecision, CapitalKind, CapitalPlan, Disbursement, ProgrammeNode, Source
from infra.finance.selectors import money_summary, reconciliation_findings

pytestmark = pytest.mark.django_db


@pytest.fixture
def decision_747(reference):
    return CapitalDecision.objects.get(number="747/QĐ-UBND", issued_on=date(2022, 6, 30))


@pytest.fixture
def investment_2022(decision_747):
    return decision_747.plans.get(year=2022, source=Source.CENTRAL, kind=CapitalKind.INVESTMENT)


@pytest.fixture
def infrastructure_line(reference):
    return ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")


def _allocate(plan: CapitalPlan, line: ProgrammeNode, amount: int, *, reverses: Allocation | None = None) -> Allocation:
    return Allocation.objects.create(
        capital_plan=plan, programme_line=line, amount=amount, allocated_on=date(2022, 9, 1), reverses=reverses
    )


def _codes(findings) -> list[str]:
    return [finding.code for finding in findings]


def test_plan_245_is_stored_as_stated(decision_747):
    assert decision_747.stated_total == 82_075_000_000
    assert decision_747.issuer == "UBND tỉnh Lai Châu"
    assert decision_747.programme.code == "NTP-GNBV-2021"
    amounts = dict(decision_747.plans.values_list("kind", "amount"))
    assert amounts == {CapitalKind.INVESTMENT: 71_750_000_000, CapitalKind.RECURRENT: 10_505_000_000}
    assert set(decision_747.plans.values_list("source", flat=True)) == {Source.CENTRAL}


def test_the_180_million_gap_is_reported_not_fixed(decision_747):
    (finding,) = [f for f in reconciliation_findings() if f.code == "decision_total_mismatch"]
    assert (finding.expected, finding.actual, finding.difference) == (82_075_000_000, 82_255_000_000, 180_000_000)
    assert "747/QĐ-UBND" in finding.message
    decision_747.refresh_from_db()
    assert decision_747.stated_total == 82_075_000_000


def test_programme_tree_follows_the_plan(reference):
    root = ProgrammeNode.objects.get(code="NTP-GNBV-2021")
    assert root.legal_basis == "Quyết định 90/QĐ-TTg ngày 18/01/2022"
    assert (root.valid_from, root.valid_to) == (date(2021, 1, 1), date(2025, 12, 31))
    assert list(root.children.values_list("label", flat=True)) == [f"Dự án {n}" for n in (1, 2, 3, 4, 6, 7)]
    subprojects = ProgrammeNode.objects.filter(parent__parent=root)
    assert subprojects.count() == 8  # DA1 TDA1; DA3 TDA1; DA4 TDA1-3; DA6 TDA2; DA7 TDA1-2
    # Lead agencies sit where the plan assigns them: on each sub-project, and on Dự án 2, which has none.
    leaves = ProgrammeNode.objects.filter(code__startswith="NTP-GNBV-2021/", children__isnull=True)
    assert set(ProgrammeNode.objects.filter(lead_agency__isnull=False)) == set(leaves)
    assert ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA2").lead_agency.name == "Trung tâm Dịch vụ nông nghiệp huyện Phong Thổ"
    infra = ProgrammeNode.objects.get(code="NTP-GNBV-2021/DA1/TDA1")
    assert infra.name == "Hỗ trợ đầu tư phát triển hạ tầng"
    assert infra.lead_agency.kind == "district_board"
    merged = ProgrammeNode.objects.get(code="NTP-2026-2035")
    assert "257/2025/QH15" in merged.legal_basis
    assert list(merged.children.values_list("legal_basis", flat=True)) == ["Quyết định 417/QĐ-BNNMT ngày 31/01/2026"]


@pytest.mark.usefixtures("money_guards_off")
def test_over_allocation_is_a_finding(investment_2022, infrastructure_line):
    _allocate(investment_2022, infrastructure_line, 70_000_000_000)
    assert "plan_over_allocated" not in _codes(reconciliation_findings())

    _allocate(investment_2022, infrastructure_line, 2_000_000_000)

    (finding,) = [f for f in reconciliation_findings() if f.code == "plan_over_allocated"]
    assert finding.expected == 71_750_000_000
    assert finding.actual == 72_000_000_000
    assert finding.difference == 250_000_000


@pytest.mark.usefixtures("money_guards_off")
def test_a_reversal_nets_out_an_over_allocation(investment_2022, infrastructure_line):
    _allocate(investment_2022, infrastructure_line, 70_000_000_000)
    excess = _allocate(investment_2022, infrastructure_line, 2_000_000_000)
    assert "plan_over_allocated" in _codes(reconciliation_findings())

    _allocate(investment_2022, infrastructure_line, 2_000_000_000, reverses=excess)

    assert "plan_over_allocated" not in _codes(reconciliation_findings())
    (row,) = [r for r in money_summary(year=2022) if r["kind"] == CapitalKind.INVESTMENT]
    assert row["allocated"] == 70_000_000_000
    assert row["unallocated"] == 1_750_000_000


@pytest.mark.usefixtures("money_guards_off")
def test_disbursement_beyond_the_net_allocation_is_a_finding(investment_2022, infrastructure_line):
    allocation = _allocate(investment_2022, infrastructure_line, 1_000_000_000)
    _allocate(investment_2022, infrastructure_line, 400_000_000, reverses=allocation)
    Disbursement.objects.create(allocation=allocation, amount=700_000_000, paid_on=date(2022, 10, 1), voucher_number="UNC-1")

    (finding,) = [f for f in reconciliation_findings() if f.code == "allocation_over_disbursed"]
    assert (finding.expected, finding.actual, finding.difference) == (600_000_000, 700_000_000, 100_000_000)


@pytest.mark.usefixtures("money_guards_off")
def test_a_reversed_payment_no_longer_counts(investment_2022, infrastructure_line):
    allocation = _allocate(investment_2022, infrastructure_line, 1_000_000_000)
    paid = Disbursement.objects.create(
        allocation=allocation, amount=900_000_000, paid_on=date(2022, 10, 1), voucher_number="UNC-1"
    )
    Disbursement.objects.create(allocation=allocation, amount=300_000_000, paid_on=date(2022, 10, 2), voucher_number="UNC-2")
    assert "allocation_over_disbursed" in _codes(reconciliation_findings())

    Disbursement.objects.create(
        allocation=allocation, amount=900_000_000, paid_on=date(2022, 10, 3), voucher_number="UNC-1-R", reverses=paid
    )

    assert "allocation_over_disbursed" not in _codes(reconciliation_findings())
    (row,) = [r for r in money_summary(year=2022) if r["kind"] == CapitalKind.INVESTMENT]
    assert (row["disbursed"], row["remaining"]) == (300_000_000, 71_450_000_000)


@pytest.mark.usefixtures("money_guards_off")
def test_reversals_beyond_the_original_are_a_finding(investment_2022, infrastructure_line):
    allocation = _allocate(investment_2022, infrastructure_line, 500_000_000)
    _allocate(investment_2022, infrastructure_line, 300_000_000, reverses=allocation)
    _allocate(investment_2022, infrastructure_line, 300_000_000, reverses=allocation)

    (finding,) = [f for f in reconciliation_findings() if f.code == "allocation_over_reversed"]
    assert finding.difference == 100_000_000


def test_money_summary_totals_by_year_source_and_kind(decision_747):
    rows = money_summary()
    assert [(r["year"], r["source"], r["kind"]) for r in rows] == [
        (2022, Source.CENTRAL, CapitalKind.INVESTMENT),
        (2022, Source.CENTRAL, CapitalKind.RECURRENT),
    ]
    assert sum(r["plan"] for r in rows) == 82_255_000_000
    assert money_summary(year=2023) == []
