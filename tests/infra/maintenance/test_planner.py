"""The planner ranks as documented and never spends more than its budget (pure: no database)."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.maintenance.planner import Candidate, build_plan, check_inputs, line_reasons, rounds_in_period

pytestmark = pytest.mark.usefixtures("english")

TODAY = date(2026, 6, 1)


def _c(schedule_id, code, *, due, cost, interval=None, households=0, poor=0, condition=None, kind="routine"):
    return Candidate(schedule_id=schedule_id, work_id=schedule_id, work_code=code, work_name=f"Work {code}", task_kind=kind,
                     next_due=due, unit_cost=cost, interval_months=interval, households=households, poor_households=poor,
                     condition=condition, inspected_on=date(2026, 4, 1) if condition else None)


# The hand-checked example of docs/maintenance.md ("A worked example").
EXAMPLE = [
    _c(1, "A", due=date(2026, 5, 1), cost=100_000_000, households=50, poor=20, condition="failed", kind="repair"),
    _c(2, "B", due=date(2026, 12, 15), cost=5_000_000, interval=3, households=200, poor=50, condition="fair"),
    _c(3, "C", due=date(2027, 3, 10), cost=60_000_000, interval=24, households=100, poor=40, condition="poor", kind="periodic"),
    _c(4, "D", due=date(2027, 2, 1), cost=2_000_000, interval=6, households=80, poor=10),
    _c(5, "E", due=date(2027, 5, 1), cost=10_000_000, interval=12, households=300, poor=100, condition="good"),
    _c(6, "F", due=date(2028, 1, 5), cost=1_000_000, interval=12, households=500, poor=200),
    _c(7, "G", due=date(2027, 7, 1), cost=1_000_000, interval=24, households=20, poor=0, condition="poor", kind="periodic"),
]


def test_the_worked_example_ranks_and_funds_as_documented():
    plan = build_plan(EXAMPLE, year=2027, budget=130_000_000, today=TODAY)
    # F falls due in 2028: not in the 2027 plan.
    assert [line.candidate.work_code for line in plan.lines] == ["A", "B", "G", "C", "D", "E"]
    by_code = {line.candidate.work_code: line for line in plan.lines}
    # B is quarterly and overdue at the start of 2027: done in January, April, July and October.
    assert (by_code["B"].rounds, by_code["B"].cost) == (4, 20_000_000)
    # D is half-yearly from February: February and August.
    assert (by_code["D"].rounds, by_code["D"].cost) == (2, 4_000_000)
    assert by_code["B"].overdue and by_code["A"].failed and not by_code["G"].urgent
    assert by_code["G"].value == pytest.approx(20.0) and by_code["C"].value == pytest.approx(3.0)
    # First fit: A (100) and B (20) leave 10; G (1) fits; C (60) does not; D (4) fits; E (10) no longer does.
    assert [line.candidate.work_code for line in plan.funded] == ["A", "B", "G", "D"]
    assert [line.candidate.work_code for line in plan.outside] == ["C", "E"]
    assert (plan.total, plan.left, plan.demand) == (125_000_000, 5_000_000, 195_000_000)


def test_each_line_says_why(english):
    plan = build_plan(EXAMPLE, year=2027, budget=130_000_000, today=TODAY)
    a, b, g, c = plan.lines[:4]
    assert "Overdue since 01/05/2026" in line_reasons(a, plan=plan, today=TODAY)
    assert "Latest inspection (01/04/2026): failed" in line_reasons(a, plan=plan, today=TODAY)
    assert "Falls due on 15/12/2026, before the plan year begins" in line_reasons(b, plan=plan, today=TODAY)
    assert "4 rounds in the year at 5,000,000 VND each" in line_reasons(b, plan=plan, today=TODAY)
    assert "Serves 20 households, 0 of them poor: 20 weighted households" in line_reasons(g, plan=plan, today=TODAY)
    assert "20.0 weighted households per million VND" in line_reasons(g, plan=plan, today=TODAY)
    assert ("Outside the budget: it costs 60,000,000 VND and only 9,000,000 VND was left after higher-ranked lines"
            in line_reasons(c, plan=plan, today=TODAY))
    assert "Within the budget: 9,000,000 VND left after it" in line_reasons(g, plan=plan, today=TODAY)


def test_ties_go_to_more_households_then_the_cheaper_line_then_the_earlier_due_date():
    plan = build_plan([
        _c(1, "small", due=date(2027, 3, 1), cost=1_000_000, households=10),
        _c(2, "large", due=date(2027, 3, 1), cost=2_000_000, households=20),
        _c(3, "late", due=date(2027, 4, 1), cost=2_000_000, households=20),
        _c(4, "free", due=date(2027, 9, 1), cost=0, households=1),
    ], year=2027, budget=0, today=TODAY)
    assert [line.candidate.work_code for line in plan.lines] == ["free", "large", "late", "small"]
    assert [line.candidate.work_code for line in plan.funded] == ["free"]  # costs nothing, so a zero budget still covers it


def test_planning_the_current_year_counts_rounds_from_today():
    start, end = date(2026, 6, 1), date(2026, 12, 31)
    assert rounds_in_period(next_due=date(2025, 1, 1), interval_months=3, start=start, end=end) == 3  # Jun, Sep, Dec
    assert rounds_in_period(next_due=date(2026, 12, 31), interval_months=1, start=start, end=end) == 1
    assert rounds_in_period(next_due=date(2027, 1, 1), interval_months=1, start=start, end=end) == 0
    assert rounds_in_period(next_due=date(2026, 1, 31), interval_months=1, start=start, end=end) == 7  # Jun … Dec


@pytest.mark.parametrize(
    ("year", "budget", "fields"),
    [(2027, -1, {"budget"}), (1999, 10, {"year"}), (2101, 10, {"year"}), ("20x7", 10, {"year"}), ("", "", {"year", "budget"}),
     (2027, "5e8", {"budget"}), (2027, "1,5", {"budget"}), (True, 10, {"year"}), ("２０２７", 10, {"year"})],
)
def test_bad_year_or_budget_is_refused_with_a_reason_for_each(year, budget, fields):
    with pytest.raises(ValidationError) as caught:
        build_plan(EXAMPLE, year=year, budget=budget, today=TODAY)
    assert set(caught.value.message_dict) == fields


def test_budgets_written_with_thousands_separators_are_read():
    assert check_inputs(year="2027", budget="500.000.000") == (2027, 500_000_000)
    assert check_inputs(year=" 2027 ", budget="500,000,000") == (2027, 500_000_000)


candidates = st.lists(
    st.builds(
        _c,
        schedule_id=st.integers(1, 10**6),
        code=st.text("ABCDEFGH", min_size=1, max_size=3),
        due=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
        cost=st.one_of(st.just(0), st.integers(0, 500_000_000)),
        interval=st.one_of(st.none(), st.integers(1, 60)),
        households=st.integers(0, 2000),
        poor=st.integers(0, 500),
        condition=st.sampled_from(["good", "fair", "poor", "failed", None]),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(candidates=candidates, budget=st.integers(0, 3_000_000_000), year=st.integers(2025, 2028))
def test_a_plan_never_exceeds_its_budget_and_leaves_out_nothing_that_would_still_fit(candidates, budget, year):
    plan = build_plan(candidates, year=year, budget=budget, today=TODAY)
    assert plan.total <= budget
    assert plan.left == budget - plan.total >= 0
    # First fit: whatever was left out costs more than what is left at the end.
    assert all(line.cost > plan.left for line in plan.outside)
    # Ranks are 1..n, urgent lines come first, and a funded line never sits on a line that would not fit.
    assert [line.rank for line in plan.lines] == list(range(1, len(plan.lines) + 1))
    urgency = [line.urgent for line in plan.lines]
    assert urgency == sorted(urgency, reverse=True)
    for line in plan.lines:
        assert line.funded == (line.cost <= line.left_before)
        assert line.left_after == line.left_before - (line.cost if line.funded else 0)
    assert all(line.candidate.next_due <= plan.end for line in plan.lines)


def test_the_plan_says_how_much_of_it_goes_to_demo_tasks():
    # Demo tasks compete for the real budget; the plan's total now says how much of it they take, on the page and
    # in the workbook's summary.
    import io
    from dataclasses import replace

    from openpyxl import load_workbook

    from infra.maintenance.exports import plan_xlsx

    candidates = [replace(c, is_demo=c.work_code in ("B", "C")) for c in EXAMPLE]
    plan = build_plan(candidates, year=2027, budget=130_000_000, today=TODAY)
    # B (20 million) is funded, C (60 million) is not: only what is funded counts.
    assert plan.demo_total == 20_000_000 and plan.total == 125_000_000
    summary = load_workbook(io.BytesIO(plan_xlsx(plan, today=TODAY))).worksheets[1]
    assert [summary.cell(row=11, column=1).value, summary.cell(row=11, column=2).value] == \
        ["Of the planned, demo data (VND)", 20_000_000]
    assert "#,##0" in summary.cell(row=11, column=2).number_format


def test_a_task_without_an_estimate_is_listed_last_never_funded_and_says_why():
    # A missing estimate was a cost of 0: such a task ranked first as "costs nothing" and was funded, however
    # large the real bill, and the planned total understated what the year would cost.
    unknown = _c(9, "U", due=date(2026, 1, 5), cost=None, households=900, poor=500, condition="failed", kind="repair")
    plan = build_plan([*EXAMPLE, unknown], year=2027, budget=10**12, today=TODAY)
    last = plan.lines[-1]
    assert last.candidate.work_code == "U" and not last.funded and last.cost == 0 and not last.estimated
    assert all(line.funded for line in plan.lines[:-1])
    assert plan.total == build_plan(EXAMPLE, year=2027, budget=10**12, today=TODAY).total
    reasons = line_reasons(last, plan=plan, today=TODAY)
    assert "No cost estimate yet: give the task an estimate to plan it" in reasons
    assert not any("Costs nothing" in reason or "Outside the budget" in reason for reason in reasons)
    # a task that truly costs nothing (0) is still funded, even with no budget
    free = build_plan([_c(8, "Z", due=date(2027, 1, 5), cost=0)], year=2027, budget=0, today=TODAY)
    assert free.lines[0].funded and "Costs nothing from the budget" in line_reasons(free.lines[0], plan=free, today=TODAY)


def test_the_plan_workbook_holds_a_work_s_name_that_looks_like_a_formula_as_text():
    import io
    from dataclasses import replace

    from openpyxl import load_workbook

    from infra.maintenance.exports import plan_xlsx

    named = [replace(EXAMPLE[0], work_name='=HYPERLINK("http://example.invalid","bấm")'), *EXAMPLE[1:]]
    plan = build_plan(named, year=2027, budget=130_000_000, today=TODAY)
    book = load_workbook(io.BytesIO(plan_xlsx(plan, today=TODAY)))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    (name,) = [cell for cell in cells if cell.value == named[0].work_name]
    assert name.data_type == "s" and name.quotePrefix
    assert not [cell for cell in cells if cell.value == "Work B"][0].quotePrefix
