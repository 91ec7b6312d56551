"""When each demo work moved through its stages, what it costs, and who it serves."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from infra.demo import LAST_DAY
from infra.demo.drafts import Draft
from infra.demo.geography import VillageSpec
from infra.works.choices import STAGE_ORDER, Category, Stage

__all__ = ["STAGE_COUNTS", "Step", "WorkSpec", "budget", "number_documents", "work_specs"]

# 160 works over all ten stages; most of the 2022–2023 works are finished by now (late 2026).
STAGE_COUNTS = {
    Stage.PROPOSED: 16,
    Stage.APPROVED: 14,
    Stage.DESIGNED: 12,
    Stage.CONTRACTED: 12,
    Stage.UNDER_CONSTRUCTION: 26,
    Stage.COMPLETED: 18,
    Stage.HANDED_OVER: 20,
    Stage.IN_OPERATION: 30,
    Stage.SUSPENDED: 6,
    Stage.CANCELLED: 6,
}
# Plan years that leave a work time to reach its stage by late 2026.
_YEARS = {
    Stage.PROPOSED: (2025, 2025),
    Stage.APPROVED: (2025, 2025),
    Stage.DESIGNED: (2024, 2025),
    Stage.CONTRACTED: (2024, 2025),
    Stage.UNDER_CONSTRUCTION: (2023, 2025),
    Stage.COMPLETED: (2022, 2024),
    Stage.HANDED_OVER: (2022, 2024),
    Stage.IN_OPERATION: (2022, 2023),
    Stage.SUSPENDED: (2022, 2025),
    Stage.CANCELLED: (2022, 2025),
}
# Days from the previous stage to this one (low, high).
_GAP_DAYS = {
    Stage.APPROVED: (30, 100),
    Stage.DESIGNED: (30, 90),
    Stage.CONTRACTED: (25, 60),
    Stage.UNDER_CONSTRUCTION: (10, 40),
    Stage.COMPLETED: (120, 330),
    Stage.HANDED_OVER: (10, 45),
    Stage.IN_OPERATION: (20, 90),
    Stage.SUSPENDED: (30, 150),
    Stage.CANCELLED: (30, 200),
}
# The document behind each move: decisions of the People's Committee, acceptance and handover records.
_DOCUMENT = {
    Stage.APPROVED: "QĐ-UBND",
    Stage.DESIGNED: "QĐ-UBND",
    Stage.CONTRACTED: "QĐ-UBND",
    Stage.COMPLETED: "BB-NTHT",
    Stage.HANDED_OVER: "BB-BG",
    Stage.SUSPENDED: "QĐ-UBND",
    Stage.CANCELLED: "QĐ-UBND",
}
_SUSPEND_REASONS = (
    "Tạm dừng thi công do mưa lũ gây sạt lở tuyến.",
    "Tạm dừng do chưa bố trí đủ vốn theo tiến độ.",
    "Tạm dừng do vướng mắc giải phóng mặt bằng.",
)
_CANCEL_REASONS = (
    "Hủy do trùng danh mục với Chương trình MTQG xây dựng nông thôn mới.",
    "Hủy do người dân không thống nhất vị trí xây dựng.",
    "Hủy do địa điểm nằm trong vùng có nguy cơ sạt lở cao.",
)
# The plan cannot be implemented before it was adopted (Plan 245, 03/08/2022).
_PLAN_ADOPTED = date(2022, 8, 3)
# Special mechanism (Decree 27/2022/NĐ-CP ch. IV): simple works a community can build.
_SIMPLE = {Category.WATER, Category.IRRIGATION, Category.CULTURE, Category.OTHER, Category.ROAD}


@dataclass(frozen=True)
class Step:
    stage: str
    on: date
    document: str = ""  # the number's suffix until number_documents fills in the number
    note: str = ""
    # Progress to record once the work has entered this stage (only while under construction).
    progress: int | None = None


@dataclass
class WorkSpec:
    code: str
    draft: Draft
    approved_year: int
    steps: list[Step]
    planned_start: date
    planned_end: date
    households: int
    poor_households: int
    women: int
    total_investment: int = 0
    special_mechanism: bool = False

    @property
    def stage(self) -> str:
        return self.steps[-1].stage

    def reached(self, stage: str) -> Step | None:
        """Return the first step into `stage`, if the work got there."""
        return next((step for step in self.steps if step.stage == stage), None)


def _assign_stages(*, rng: random.Random, drafts: list[Draft]) -> list[str]:
    pool = [stage for stage, count in STAGE_COUNTS.items() for _n in range(count)]
    rng.shuffle(pool)
    stages: list[str] = [""] * len(drafts)
    # New roads to unconnected villages stay unbuilt, so the gaps they close are still gaps today.
    early = {Stage.PROPOSED, Stage.APPROVED, Stage.DESIGNED, Stage.CONTRACTED}
    for index in sorted(range(len(drafts)), key=lambda i: not drafts[i].new_road):
        pick = next(k for k, stage in enumerate(pool) if not drafts[index].new_road or stage in early)
        stages[index] = pool.pop(pick)
    return stages


def _path(*, rng: random.Random, target: str) -> list[str]:
    if target == Stage.SUSPENDED:
        stop = rng.choice([Stage.APPROVED, Stage.DESIGNED, Stage.CONTRACTED, Stage.UNDER_CONSTRUCTION, Stage.UNDER_CONSTRUCTION])
        return [*STAGE_ORDER[1 : STAGE_ORDER.index(stop) + 1], Stage.SUSPENDED]
    if target == Stage.CANCELLED:
        stop = rng.choice([Stage.PROPOSED, Stage.APPROVED, Stage.DESIGNED])
        return [*STAGE_ORDER[1 : STAGE_ORDER.index(stop) + 1], Stage.CANCELLED]
    path = list(STAGE_ORDER[1 : STAGE_ORDER.index(target) + 1])
    if Stage.COMPLETED in path and rng.random() < 0.12:
        # A rainy-season stop and restart on the way: the service sends a resumed work back to construction.
        at = path.index(Stage.UNDER_CONSTRUCTION) + 1
        path[at:at] = [Stage.SUSPENDED, Stage.UNDER_CONSTRUCTION]
    return path


def _steps(*, rng: random.Random, target: str, year: int) -> list[Step]:
    start = (
        _PLAN_ADOPTED + timedelta(days=rng.randint(2, 50))
        if year == 2022
        else date(year - 1, 11, 1) + timedelta(days=rng.randint(0, 110))
    )
    path = _path(rng=rng, target=target)
    gaps = []
    for index, stage in enumerate(path):
        resumed = stage == Stage.UNDER_CONSTRUCTION and index > 0 and path[index - 1] == Stage.SUSPENDED
        gaps.append(rng.randint(45, 120) if resumed else rng.randint(*_GAP_DAYS[stage]))
    room = (LAST_DAY - start).days
    if sum(gaps) > room:
        # Squeeze the whole history into the time there was, keeping its order.
        gaps = [max(1, gap * room // sum(gaps)) for gap in gaps]
    steps = [Step(stage=Stage.PROPOSED, on=start)]
    for index, (stage, gap) in enumerate(zip(path, gaps, strict=True)):
        on = min(steps[-1].on + timedelta(days=gap), LAST_DAY)
        following = path[index + 1] if index + 1 < len(path) else None
        note, progress = "", None
        if stage == Stage.SUSPENDED:
            note = rng.choice(_SUSPEND_REASONS)
        elif stage == Stage.CANCELLED:
            note = rng.choice(_CANCEL_REASONS)
        elif stage == Stage.UNDER_CONSTRUCTION and steps[-1].stage == Stage.SUSPENDED:
            note = "Tiếp tục thi công sau khi khắc phục nguyên nhân tạm dừng."
        if stage == Stage.UNDER_CONSTRUCTION and following in (None, Stage.SUSPENDED):
            progress = rng.randint(10, 95) if following is None else rng.randint(10, 80)
        steps.append(Step(stage=stage, on=on, document=_DOCUMENT.get(stage, ""), note=note, progress=progress))
    return steps


def budget(*, raw: list[int], total: int) -> list[int]:
    """Scale rough costs to whole million VND that add up to exactly `total`; the largest takes the rounding."""
    unit = 1_000_000
    scale = total / (sum(raw) * unit)
    amounts = [max(unit, round(cost * unit * scale / unit) * unit) for cost in raw]
    largest = max(range(len(amounts)), key=lambda i: (amounts[i], -i))
    amounts[largest] += total - sum(amounts)
    if amounts[largest] <= 0:
        raise ValueError("the budget cannot be split over this many works")
    return amounts


def _beneficiaries(*, rng: random.Random, draft: Draft, villages: dict[str, VillageSpec]) -> tuple[int, int, int]:
    served = [villages[code] for code in draft.villages]
    share = rng.uniform(0.7, 1.0)
    households = max(1, round(sum(v.households for v in served) * share))
    poor = min(households, round(sum(v.poor_households for v in served) * share))
    # Women as people, not households: about half of five people per household.
    return households, poor, round(households * rng.uniform(2.2, 2.6))


def work_specs(*, rng: random.Random, drafts: list[Draft], villages: list[VillageSpec], investment_total: int) -> list[WorkSpec]:
    """Give each draft a stage history, planned dates, beneficiaries and a share of the investment capital."""
    by_code = {v.code: v for v in villages}
    specs = []
    for draft, target in zip(drafts, _assign_stages(rng=rng, drafts=drafts), strict=True):
        year = rng.randint(*_YEARS[target])
        steps = _steps(rng=rng, target=target, year=year)
        decided = next((s.on for s in steps if s.stage == Stage.APPROVED), steps[0].on + timedelta(days=60))
        planned_start = decided + timedelta(days=rng.randint(90, 150))
        households, poor, women = _beneficiaries(rng=rng, draft=draft, villages=by_code)
        specs.append(
            WorkSpec(
                code="",
                draft=draft,
                approved_year=year,
                steps=steps,
                planned_start=planned_start,
                planned_end=planned_start + timedelta(days=rng.randint(180, 420)),
                households=households,
                poor_households=poor,
                women=women,
            )
        )
    # Codes follow the order works were proposed in, as a register numbers them.
    specs.sort(key=lambda spec: (spec.steps[0].on, spec.draft.name))
    for number, spec in enumerate(specs, start=1):
        spec.code = f"DEMO-W-{number:04d}"
    amounts = budget(raw=[spec.draft.raw_cost for spec in specs], total=investment_total)
    largest = max(amounts)
    for spec, amount in zip(specs, amounts, strict=True):
        spec.total_investment = amount
        spec.special_mechanism = (
            spec.draft.category in _SIMPLE
            and not spec.draft.new_road
            and amount <= 5_000_000_000
            and amount != largest
            and rng.random() < 0.35
        )
    return specs


def number_documents(*, rng: random.Random, requests: list[tuple[date, str, str]]) -> dict[str, str]:
    """Number documents "123/QĐ-UBND" in date order, a register per year and kind; return them by request key.

    `requests` are (date, key, suffix). Numbers rise through the year with gaps, as other business
    of the same office takes numbers in between.
    """
    numbers: dict[str, str] = {}
    counters: dict[tuple[int, str], int] = {}
    for day, key, suffix in sorted(requests):
        slot = (day.year, suffix)
        counters[slot] = counters.get(slot, rng.randint(5, 40)) + rng.randint(1, 12)
        numbers[key] = f"{counters[slot]}/{suffix}"
    return numbers
