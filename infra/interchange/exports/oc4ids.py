"""An OC4IDS 0.9 project package: one project per work (docs/interchange.md has the mappings).

What a transparency portal may publish only: no internal notes, public documents only.
Works are read a chunk at a time with their money, stages and parties, and each project is
written as it is built, so memory does not grow with the number of works.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from infra.finance.models import Allocation, Disbursement, Source
from infra.interchange.exports.tabular import Progress
from infra.works.choices import Category, Stage
from infra.works.models import StageEvent, Work, WorkDocument, WorkInvestor

__all__ = ["OC4IDS_VERSION", "SECTORS", "STATUSES", "oc4ids_write", "project_status"]

OC4IDS_VERSION = "0.9"
CURRENCY = "VND"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_CHUNK = 500

# DOMAIN.md §8. "other" has no sector of its own; irrigation for production is "economy"
# (agriculture) in the 0.9 projectSector codelist. Sub-sectors come with their parent.
SECTORS: dict[str, list[str]] = {
    Category.HEALTH: ["health"],
    Category.SCHOOL: ["education"],
    Category.WATER: ["waterAndWaste"],
    Category.IRRIGATION: ["economy"],
    Category.ROAD: ["transport", "transport.road"],
    Category.BRIDGE: ["transport", "transport.road"],
    Category.ELECTRICITY: ["energy"],
    Category.CULTURE: ["cultureSportsAndRecreation"],
    Category.OTHER: [],
}
# Our stages → the closed projectStatus codelist of OC4IDS 0.9.
STATUSES: dict[str, str] = {
    Stage.PROPOSED: "identification",
    Stage.APPROVED: "preparation",
    Stage.DESIGNED: "preparation",
    Stage.CONTRACTED: "implementation",
    Stage.UNDER_CONSTRUCTION: "implementation",
    Stage.COMPLETED: "completion",
    Stage.HANDED_OVER: "completion",
    Stage.IN_OPERATION: "completed",
    Stage.CANCELLED: "cancelled",
}
# Milestone types (OCDS milestoneType codelist) for the stage a work moved into.
_MILESTONE_TYPES = {Stage.APPROVED: "approval", Stage.DESIGNED: "approval", Stage.CONTRACTED: "approval",
                    Stage.COMPLETED: "delivery", Stage.HANDED_OVER: "delivery"}


def project_status(stage: str, resumed_stage: str | None = None) -> str:
    """Return the projectStatus of a stage; a suspended work keeps the status of the stage it stopped in."""
    if stage == Stage.SUSPENDED:
        return STATUSES.get(resumed_stage or Stage.UNDER_CONSTRUCTION, "implementation")
    return STATUSES[stage]


def _datetime(day: date | None) -> str | None:
    # OC4IDS dates are date-times; a day is its start in Vietnam.
    return datetime.combine(day, time.min, tzinfo=VIETNAM).isoformat() if day else None


def _value(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": CURRENCY}


def _party_id(kind: str, pk: Any) -> str:
    return f"{kind}-{pk}"


def _prune(data: Any) -> Any:
    """Drop empty values: OC4IDS fields are optional, and null is not a valid string or date-time."""
    if isinstance(data, dict):
        return {k: _prune(v) for k, v in data.items() if v not in (None, "", [], {})}
    if isinstance(data, list):
        return [_prune(v) for v in data]
    return data


class _Related:
    """Money, stages, documents and investors of one chunk of works, read in a few queries."""

    def __init__(self, ids: list[int]):
        self.allocations = defaultdict(list)
        for a in Allocation.objects.filter(work_id__in=ids).select_related("capital_plan", "programme_line__lead_agency"):
            self.allocations[a.work_id].append(a)
        self.disbursements = defaultdict(list)
        for d in Disbursement.objects.filter(allocation__work_id__in=ids).select_related("allocation").order_by("paid_on", "id"):
            self.disbursements[d.allocation.work_id].append(d)
        self.events = defaultdict(list)
        for e in StageEvent.objects.filter(work_id__in=ids).order_by("occurred_on", "id"):
            self.events[e.work_id].append(e)
        self.documents = defaultdict(list)
        for doc in WorkDocument.objects.filter(work_id__in=ids, is_public=True).order_by("uploaded_at", "id"):
            self.documents[doc.work_id].append(doc)
        self.investors = defaultdict(list)
        for i in WorkInvestor.objects.filter(work_id__in=ids).select_related("organisation").order_by("valid_from", "id"):
            self.investors[i.work_id].append(i)


def _parties(work: Work, related: _Related) -> tuple[list[dict], dict[str, Any] | None]:
    parties: dict[str, dict[str, Any]] = {}

    def add(pid: str, name: str, role: str) -> None:
        party = parties.setdefault(pid, {"id": pid, "name": name, "roles": []})
        if role not in party["roles"]:
            party["roles"].append(role)

    payer = None
    for investor in related.investors[work.pk]:
        pid = _party_id("org", investor.organisation_id)
        add(pid, investor.organisation.name, "buyer")
        add(pid, investor.organisation.name, "procuringEntity")
        payer = {"id": pid, "name": investor.organisation.name}
    for allocation in related.allocations[work.pk]:
        agency = allocation.programme_line.lead_agency
        if agency is not None:
            add(_party_id("org", agency.pk), agency.name, "publicAuthority")
        source = allocation.capital_plan.source
        add(_party_id("funder", source), str(Source(source).label), "funder")
    if work.contractor is not None:
        add(_party_id("org", work.contractor_id), work.contractor.name, "supplier")
    return list(parties.values()), payer


def _budget(work: Work, related: _Related, approval: date | None) -> dict[str, Any]:
    by_source: dict[str, int] = defaultdict(int)
    first_year: dict[str, int] = {}
    for allocation in related.allocations[work.pk]:
        source = allocation.capital_plan.source
        by_source[source] += allocation.signed_amount
        first_year[source] = min(first_year.get(source, 9999), allocation.capital_plan.year)
    breakdown = [
        {"id": source, "description": str(Source(source).label), "amount": _value(amount),
         "sourceParty": {"id": _party_id("funder", source), "name": str(Source(source).label)},
         "period": {"startDate": _datetime(date(first_year[source], 1, 1))}}
        for source, amount in sorted(by_source.items())
    ]
    return {"amount": _value(work.total_investment), "approvalDate": _datetime(approval), "budgetBreakdown": breakdown}


def _locations(work: Work) -> list[dict[str, Any]]:
    # GeoJSON order is [longitude, latitude] (RFC 7946), whatever the schema's prose says.
    locations = [{"id": "geometry", "description": work.name, "geometry": json.loads(work.geometry.json)}]
    for key, unit in (("commune", work.current_commune), ("approval-commune", work.approved_commune)):
        if unit is None:
            continue
        vintage = f"{unit.code}@{unit.valid_to.isoformat()}" if unit.valid_to else unit.code
        locations.append({"id": key, "description": f"{unit.unit_type} {unit.name}",
                          "gazetteer": {"scheme": "VN-GSO-ADMIN", "identifiers": [vintage]}})
    return locations


def project(work: Work, related: _Related, *, base_url: str) -> dict[str, Any]:
    """Return the OC4IDS project of one work."""
    events = related.events[work.pk]
    approval = next((e.occurred_on for e in events if e.to_stage == Stage.APPROVED), None)
    resumed = next((e.to_stage for e in reversed(events) if e.to_stage != Stage.SUSPENDED), None)
    parties, payer = _parties(work, related)
    contractor = {"id": _party_id("org", work.contractor_id), "name": work.contractor.name} if work.contractor else None
    transactions = [
        {"id": str(d.pk), "date": _datetime(d.paid_on), "value": _value(d.signed_amount), "payer": payer, "payee": contractor,
         "uri": None, "description": d.voucher_number}
        for d in related.disbursements[work.pk]
    ]
    contracting = []
    if contractor or transactions:
        contracting.append({"id": f"{work.code}-construction", "summary": {
            "title": work.name, "nature": ["construction"],
            "status": "closed" if work.stage in (Stage.COMPLETED, Stage.HANDED_OVER, Stage.IN_OPERATION) else "active",
            "suppliers": [contractor] if contractor else [],
            "contractPeriod": {"startDate": _datetime(work.actual_start), "endDate": _datetime(work.actual_end)},
            "transactions": transactions,
        }})
    milestones = [
        {"id": str(e.pk), "title": str(Stage(e.to_stage).label), "type": _MILESTONE_TYPES.get(e.to_stage, "reporting"),
         "status": "met", "dateMet": _datetime(e.occurred_on), "description": " ".join(filter(None, [e.decision_number, e.note]))}
        for e in events
    ]
    documents = [
        {"id": str(doc.pk), "documentType": "picture" if doc.kind == "photo" else "projectScope", "title": doc.title,
         "url": base_url.rstrip("/") + doc.get_absolute_url(), "datePublished": timezone.localtime(doc.uploaded_at).isoformat()}
        for doc in related.documents[work.pk]
    ]
    completion = None
    if work.stage in (Stage.COMPLETED, Stage.HANDED_OVER, Stage.IN_OPERATION) and work.actual_end:
        spent = sum(d.signed_amount for d in related.disbursements[work.pk])
        completion = {"endDate": _datetime(work.actual_end), "finalValue": _value(spent)}
    return _prune({
        "id": f"{settings_prefix()}-{work.code}",
        "updated": timezone.localtime(work.updated_at).isoformat(),
        # A synthetic work (load_demo) says so where a portal shows it: its title.
        "title": f"{DEMO_TITLE}{work.name}" if work.is_demo else work.name,
        "description": work.description,
        "status": project_status(work.stage, resumed),
        "sector": SECTORS.get(work.category, []),
        "type": "construction",
        "period": {"startDate": _datetime(work.planned_start or work.actual_start),
                   "endDate": _datetime(work.planned_end or work.actual_end)},
        "locations": _locations(work),
        "budget": _budget(work, related, approval),
        "parties": parties,
        "contractingProcesses": contracting,
        "milestones": milestones,
        "documents": documents,
        "completion": completion,
    })


DEMO_TITLE = "[Dữ liệu mẫu] "


def settings_prefix() -> str:
    """Return the project identifier prefix (a registered OC4IDS prefix should be configured)."""
    return getattr(settings, "OC4IDS_ID_PREFIX", "vn-laichau-works")


def _chunks(works: QuerySet[Work]) -> Iterable[list[Work]]:
    chunk: list[Work] = []
    rows = works.select_related("current_commune", "approved_commune", "contractor").order_by("id")
    for work in rows.iterator(chunk_size=_CHUNK):
        chunk.append(work)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def oc4ids_write(out: IO[bytes], *, works: QuerySet[Work], base_url: str, published: datetime | None = None,
                 progress: Progress | None = None) -> int:
    """Write the project package; return how many projects."""
    published = published or timezone.now()
    head = {
        "uri": base_url.rstrip("/") + "/exports/oc4ids.json",
        "publishedDate": timezone.localtime(published).isoformat(),
        "version": OC4IDS_VERSION,
        "publisher": {"name": getattr(settings, "OC4IDS_PUBLISHER", "Ban quản lý dự án huyện Phong Thổ")},
    }
    text = json.dumps(head, ensure_ascii=False)
    out.write((text[:-1] + ', "projects": [\n').encode("utf-8"))
    written = 0
    for chunk in _chunks(works):
        related = _Related([w.pk for w in chunk])
        for work in chunk:
            prefix = ",\n" if written else ""
            out.write((prefix + json.dumps(project(work, related, base_url=base_url), ensure_ascii=False)).encode("utf-8"))
            written += 1
        if progress:
            progress(written)
    out.write(b"\n]}\n")
    return written
