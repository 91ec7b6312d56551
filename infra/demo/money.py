"""Allocations and payments for the demo works, planned in memory and then written.

All amounts are integer VND. Allocations come from the 2022 investment capital plan to Project 1 /
Sub-project 1; payments follow the works' stages and never exceed what was allocated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from infra.demo import CHANGE_REASON, LAST_DAY
from infra.demo.lifecycle import WorkSpec
from infra.finance.models import Allocation, CapitalPlan, Disbursement, ProgrammeNode
from infra.works.choices import Stage
from infra.works.models import Work

__all__ = ["AllocationPlan", "Payment", "allocation_document_requests", "allocations_save", "money_plans", "number_vouchers"]

_MILLION = 1_000_000
_THOUSAND = 1_000
_ADVANCE = "Tạm ứng hợp đồng"


@dataclass
class Payment:
    on: date
    amount: int
    note: str
    # Index, within the same work's payments, of the payment this one reverses.
    reverses: int | None = None
    voucher: str = ""


@dataclass
class AllocationPlan:
    work_code: str
    amount: int
    on: date
    payments: list[Payment] = field(default_factory=list)

    @property
    def document_key(self) -> str:
        return f"{self.work_code}/allocation"


def _later(*, day: date, rng: random.Random, low: int, high: int) -> date:
    return min(day + timedelta(days=rng.randint(low, high)), LAST_DAY)


def _paid_share(*, rng: random.Random, spec: WorkSpec) -> float:
    """Return how much of the allocation has been paid by now, judging by the work's stage."""
    if spec.reached(Stage.HANDED_OVER):
        # Most finished works are settled in full; some still hold back the final settlement.
        return 1.0 if rng.random() < 0.6 else rng.uniform(0.93, 0.98)
    if spec.reached(Stage.COMPLETED):
        return rng.uniform(0.85, 0.95)
    progress = next((step.progress for step in reversed(spec.steps) if step.progress is not None), 0)
    return progress / 100 * rng.uniform(0.7, 0.95)


def _payment_dates(*, rng: random.Random, spec: WorkSpec, earliest: date) -> list[tuple[date, str]]:
    contracted = spec.reached(Stage.CONTRACTED)
    started = spec.reached(Stage.UNDER_CONSTRUCTION)
    completed = spec.reached(Stage.COMPLETED)
    handed = spec.reached(Stage.HANDED_OVER)
    dates: list[tuple[date, str]] = []
    if contracted and (rng.random() < 0.5 or not started):
        dates.append((_later(day=max(contracted.on, earliest), rng=rng, low=5, high=20), _ADVANCE))
    if started:
        # Payments stop when the work stops: at completion, or at a suspension that is still in force.
        end = completed.on if completed else (spec.steps[-1].on if spec.stage == Stage.SUSPENDED else LAST_DAY)
        for number in range(1, rng.randint(1, 3) + 1):
            span = max(1, (end - started.on).days)
            dates.append(
                (started.on + timedelta(days=rng.randint(min(30, span), span)), f"Thanh toán khối lượng hoàn thành đợt {number}")
            )
    if completed:
        dates.append((_later(day=completed.on, rng=rng, low=15, high=60), "Thanh toán sau nghiệm thu hoàn thành"))
    if handed:
        dates.append((_later(day=handed.on, rng=rng, low=30, high=120), "Thanh toán theo quyết toán"))
    return sorted((max(day, earliest), note) for day, note in dates)


def _payments(*, rng: random.Random, spec: WorkSpec, allocated: int, earliest: date) -> list[Payment]:
    if not spec.reached(Stage.CONTRACTED):
        return []  # nothing is paid before a contract
    dates = _payment_dates(rng=rng, spec=spec, earliest=earliest)
    share = _paid_share(rng=rng, spec=spec)
    if len(dates) == 1 and not spec.reached(Stage.UNDER_CONSTRUCTION):
        share = rng.uniform(0.1, 0.2)  # an advance only
    target = min(allocated, round(allocated * share / _THOUSAND) * _THOUSAND)
    cuts = sorted(rng.uniform(0.1, 0.95) for _n in dates[1:])
    if cuts and dates[0][1] == _ADVANCE:
        cuts[0] = min(cuts[0], rng.uniform(0.1, 0.25))  # an advance is a small share of the contract
    cumulative = [round(target * cut / _THOUSAND) * _THOUSAND for cut in cuts] + [target]
    payments, paid = [], 0
    for (day, note), upto in zip(dates, cumulative, strict=True):
        if upto > paid:
            payments.append(Payment(on=day, amount=upto - paid, note=note))
            paid = upto
    return payments


def _add_reversal(plan: AllocationPlan) -> None:
    """Turn the second payment into a mistyped one, its reversal, and the corrected payment."""
    right = plan.payments[1]
    wrong = Payment(
        on=right.on,
        amount=right.amount // 10 // _THOUSAND * _THOUSAND,
        note="Ghi sai số tiền (thiếu một chữ số 0) – xem chứng từ hoàn trả",
    )
    fix_day = min(right.on + timedelta(days=2), LAST_DAY)
    reversal = Payment(on=fix_day, amount=wrong.amount, note="Hoàn trả chứng từ ghi sai số tiền", reverses=1)
    corrected = Payment(on=fix_day, amount=right.amount, note=f"{right.note} (ghi lại đúng số tiền)")
    plan.payments[1:2] = [wrong, reversal, corrected]


def money_plans(*, rng: random.Random, specs: list[WorkSpec], ceiling: int) -> list[AllocationPlan]:
    """Plan one allocation per approved, not cancelled work, with its payments; include one reversal."""
    plans = []
    for spec in specs:
        approved = spec.reached(Stage.APPROVED)
        if approved is None or spec.stage == Stage.CANCELLED:
            continue
        # Until the design and estimate are approved, only preparation money is allocated.
        amount = (
            spec.total_investment
            if spec.reached(Stage.DESIGNED)
            else round(spec.total_investment * rng.uniform(0.3, 0.6) / _MILLION) * _MILLION
        )
        on = _later(day=approved.on, rng=rng, low=7, high=20)
        plans.append(
            AllocationPlan(
                work_code=spec.code, amount=amount, on=on, payments=_payments(rng=rng, spec=spec, allocated=amount, earliest=on)
            )
        )
    if sum(plan.amount for plan in plans) > ceiling:
        raise ValueError("demo allocations exceed the capital plan")
    by_code = {spec.code: spec for spec in specs}
    example = next(p for p in plans if by_code[p.work_code].stage == Stage.IN_OPERATION and len(p.payments) >= 2)
    _add_reversal(example)
    return plans


def allocation_document_requests(*, plans: list[AllocationPlan]) -> list[tuple[date, str, str]]:
    """Return the allocation decisions to number, as (date, key, suffix) for lifecycle.number_documents."""
    return [(plan.on, plan.document_key, "QĐ-UBND") for plan in plans]


def number_vouchers(*, plans: list[AllocationPlan]) -> None:
    """Number payment vouchers PC-<year>-0001… in the order they were paid."""
    ordered = sorted(((p.on, plan.work_code, i), p) for plan in plans for i, p in enumerate(plan.payments))
    counters: dict[int, int] = {}
    for (day, _code, _index), payment in ordered:
        counters[day.year] = counters.get(day.year, 0) + 1
        payment.voucher = f"PC-{day.year}-{counters[day.year]:04d}"


def allocations_save(
    *,
    plans: list[AllocationPlan],
    works: dict[str, Work],
    capital_plan: CapitalPlan,
    line: ProgrammeNode,
    documents: dict[str, str],
) -> None:
    """Write the allocations and their payments."""
    for plan in plans:
        allocation = Allocation(
            capital_plan=capital_plan,
            programme_line=line,
            work=works[plan.work_code],
            amount=plan.amount,
            allocated_on=plan.on,
            decision_number=documents[plan.document_key],
            is_demo=True,
            note="Phân bổ kế hoạch vốn đầu tư năm 2022 (dữ liệu mẫu)",
        )
        _save(allocation)
        saved: list[Disbursement] = []
        for payment in plan.payments:
            row = Disbursement(
                allocation=allocation,
                amount=payment.amount,
                paid_on=payment.on,
                voucher_number=payment.voucher,
                note=payment.note,
                is_demo=True,
                reverses=saved[payment.reverses] if payment.reverses is not None else None,
            )
            _save(row)
            saved.append(row)


def _save(row: Allocation | Disbursement) -> None:
    row._change_reason = CHANGE_REASON
    row.full_clean()
    row.save()
