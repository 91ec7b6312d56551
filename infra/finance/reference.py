"""Load Plan 245/KH-UBND (2022) from ``fixtures/plan_245.json``: programme tree, agencies, capital.

The plan is a legal document: its figures are stored exactly as written, inconsistencies
included (the reconciliation selectors report them). Rows are saved only when they differ,
because every save writes a history row.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

from gis.reference import LoadStats, nfc, save_if_changed
from infra.accounts.models import Organisation, OrganisationKind
from infra.finance.models import CapitalDecision, CapitalKind, CapitalPlan, NodeKind, ProgrammeNode, Source

__all__ = ["load_plan_245"]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _load_organisations(*, entries: list[dict[str, Any]], stats: LoadStats) -> dict[str, Organisation]:
    names = [nfc(entry["name"]) for entry in entries]
    stored = {org.name: org for org in Organisation.objects.filter(name__in=names)}
    loaded: dict[str, Organisation] = {}
    for entry in entries:
        name = nfc(entry["name"])
        loaded[name] = save_if_changed(
            model=Organisation,
            existing=stored.get(name),
            key={"name": name},
            values={"short_name": nfc(entry["short_name"]), "kind": OrganisationKind(entry["kind"]), "is_demo": False},
            stats=stats,
        )
    return loaded


class _Tree:
    """Walks the nested programme entries, parents first, so each child knows its parent's id."""

    def __init__(self, *, organisations: dict[str, Organisation], stats: LoadStats) -> None:
        self.organisations = organisations
        self.stats = stats
        self.stored = {node.code: node for node in ProgrammeNode.objects.all()}
        self.loaded: dict[str, ProgrammeNode] = {}

    def load(self, entry: dict[str, Any], *, parent: ProgrammeNode | None) -> None:
        code = nfc(entry["code"])
        lead = nfc(entry.get("lead_agency"))
        # Lines exist for their programme's period unless the data says otherwise.
        valid_from = _date(entry.get("valid_from")) if "valid_from" in entry else (parent.valid_from if parent else None)
        valid_to = _date(entry.get("valid_to")) if "valid_to" in entry else (parent.valid_to if parent else None)
        node = save_if_changed(
            model=ProgrammeNode,
            existing=self.stored.get(code),
            key={"code": code},
            values={
                "kind": NodeKind(entry["kind"]),
                "label": nfc(entry.get("label")),
                "name": nfc(entry["name"]),
                "parent_id": parent.pk if parent else None,
                "lead_agency_id": self.organisations[lead].pk if lead else None,
                "legal_basis": nfc(entry.get("legal_basis")),
                "valid_from": valid_from,
                "valid_to": valid_to,
                "position": entry.get("position", 0),
            },
            stats=self.stats,
        )
        self.loaded[code] = node
        for child in entry.get("children", []):
            self.load(child, parent=node)


def _load_capital(*, entries: list[dict[str, Any]], nodes: dict[str, ProgrammeNode], stats: LoadStats) -> tuple[int, int]:
    plan_count = 0
    for entry in entries:
        number, issued_on = nfc(entry["number"]), _date(entry["issued_on"])
        decision = save_if_changed(
            model=CapitalDecision,
            existing=CapitalDecision.objects.filter(number=number, issued_on=issued_on).first(),
            key={"number": number, "issued_on": issued_on},
            values={
                "issuer": nfc(entry["issuer"]),
                "title": nfc(entry.get("title")),
                # As the text states it, even where its parts do not add up to it.
                "stated_total": int(entry["stated_total"]),
                "programme_id": nodes[nfc(entry["programme"])].pk,
                "implementing_plan": nfc(entry.get("implementing_plan")),
            },
            stats=stats,
        )
        stored = {(p.year, p.source, p.kind, p.programme_line_id): p for p in decision.plans.all()}
        for plan in entry["plans"]:
            line = nodes[nfc(plan["programme_line"])] if plan.get("programme_line") else None
            key = {
                "decision_id": decision.pk,
                "year": int(plan["year"]),
                "source": Source(plan["source"]),
                "kind": CapitalKind(plan["kind"]),
                "programme_line_id": line.pk if line else None,
            }
            save_if_changed(
                model=CapitalPlan,
                existing=stored.get((key["year"], key["source"], key["kind"], key["programme_line_id"])),
                key=key,
                values={"amount": int(plan["amount"])},
                stats=stats,
            )
            plan_count += 1
    return len(entries), plan_count


@transaction.atomic
def load_plan_245(*, fixtures_dir: Path) -> dict[str, int]:
    """Load the organisations, programme lines, capital decisions and capital plans of Plan 245.

    Return how many of each the fixture holds, and how many rows were created, updated or unchanged.
    """
    data = json.loads((Path(fixtures_dir) / "plan_245.json").read_text(encoding="utf-8"))
    stats = LoadStats()
    organisations = _load_organisations(entries=data["organisations"], stats=stats)
    tree = _Tree(organisations=organisations, stats=stats)
    for programme in data["programmes"]:
        tree.load(programme, parent=None)
    decisions, plans = _load_capital(entries=data["capital_decisions"], nodes=tree.loaded, stats=stats)
    return {
        "organisations": len(organisations),
        "programme_lines": len(tree.loaded),
        "capital_decisions": decisions,
        "capital_plans": plans,
        **stats.as_dict(),
    }
