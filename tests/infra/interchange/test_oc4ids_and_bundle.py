"""The OC4IDS package validates against the official schema; the audit bundle's manifest is exact."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from infra.audit.models import AuditEntry
from infra.interchange.exports.oc4ids import STATUSES, settings_prefix
from infra.works.choices import Stage

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[3] / "fixtures" / "oc4ids"


def _validator() -> Draft4Validator:
    """The official OC4IDS 0.9 package schema, its project $ref resolved to the official project schema (offline)."""
    package = json.loads((SCHEMAS / "project-package-schema.json").read_text(encoding="utf-8"))
    project = json.loads((SCHEMAS / "project-schema.json").read_text(encoding="utf-8"))
    reference = package["properties"]["projects"]["items"]["$ref"]
    registry = Registry().with_resources([(reference, Resource(contents=project, specification=DRAFT4)),
                                          (project["id"], Resource(contents=project, specification=DRAFT4))])
    Draft4Validator.check_schema(package)
    Draft4Validator.check_schema(project)
    return Draft4Validator(package, registry=registry)


def _download(client, user, url) -> bytes:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def test_oc4ids_package_validates_against_the_official_schema(client, board, works):
    package = json.loads(_download(client, board, "/exports/oc4ids.json"))
    errors = sorted(_validator().iter_errors(package), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:10]]
    projects = {p["id"].removeprefix(settings_prefix() + "-"): p for p in package["projects"]}
    first = projects["PT-001"]
    assert first["status"] == "preparation" and first["sector"] == ["health"]
    assert first["budget"]["amount"] == {"amount": 3_500_000_000, "currency": "VND"}
    assert first["budget"]["budgetBreakdown"][0]["amount"]["amount"] == 1_700_000_000
    assert {r for p in first["parties"] for r in p["roles"]} >= {"funder", "supplier"}
    assert first["locations"][0]["geometry"] == {"type": "Point", "coordinates": [103.3612345678, 22.5312345678]}
    gazetteer = [loc["gazetteer"]["identifiers"] for loc in first["locations"] if "gazetteer" in loc]
    assert ["03562@2025-06-30"] in gazetteer
    transactions = first["contractingProcesses"][0]["summary"]["transactions"]
    assert [t["value"]["amount"] for t in transactions] == [500_000_000]
    assert [m["title"] for m in first["milestones"]]
    assert projects["PT-002"]["sector"] == ["transport", "transport.road"]
    # The fixture's demo work says so where a portal shows it; a real work's title is its name.
    assert projects["PT-004"]["title"] == "[Dữ liệu mẫu] Giếng khoan bản Lả"
    assert first["title"] == "Trạm y tế xã Phong Thổ"
    for project in package["projects"]:
        datetime.fromisoformat(project["updated"])
        assert "internal_notes" not in json.dumps(project) and "Chỉ nội bộ" not in json.dumps(project, ensure_ascii=False)


def test_every_stage_maps_to_the_closed_status_codelist():
    allowed = set(json.loads((SCHEMAS / "project-schema.json").read_text())["properties"]["status"]["enum"])
    assert set(STATUSES.values()) <= allowed
    assert set(STATUSES) | {Stage.SUSPENDED} == set(Stage.values)


def test_audit_bundle_holds_everything_with_a_manifest_of_hashes(client, auditor, works):
    data = _download(client, auditor, "/exports/audit-bundle.zip?year=2022")
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    names = set(archive.namelist()) - {"manifest.json"}
    assert {"works.csv", "works.xlsx", "works.geojson", "works.kml", "works.gpkg", "works-shapefiles.zip", "oc4ids.json",
            "audit/entries.csv", "history/works.HistoricalWork.csv", "kept/maintenance.SavedPlan.csv",
            "kept/maintenance.SavedPlanLine.csv", "kept/maintenance.SavedPlanLeftOut.csv"} <= names
    assert set(manifest["files"]) == names
    for name, facts in manifest["files"].items():
        content = archive.read(name)
        assert hashlib.sha256(content).hexdigest() == facts["sha256"] and len(content) == facts["bytes"]
    assert manifest["filters"] == {"year": 2022}
    assert manifest["exported_by"]["username"] == auditor.username and manifest["exported_by"]["role"] == "auditor"
    head = AuditEntry.objects.order_by("-seq").first()
    assert manifest["audit_chain_head"] == {"seq": head.seq, "hash": head.hash}
    datetime.fromisoformat(manifest["exported_at"])
    entries = archive.read("audit/entries.csv").decode("utf-8-sig").splitlines()
    assert len(entries) == AuditEntry.objects.count() + 1  # every entry, and the header
    rows = archive.read("works.csv").decode("utf-8-sig").splitlines()
    assert len(rows) == 3  # the header and the two works of 2022


def test_the_bundle_s_audit_entries_re_compute_to_their_chain_without_the_system(client, auditor, works):
    # audit/entries.csv is for reading: there an action "+" reads "'+" (neutralised for spreadsheets), so the
    # chain cannot be re-computed from it. entries.jsonl holds each entry as hashed; the rule is the one
    # docs/interchange.md gives (canonical JSON, SHA-256, each entry chained to the one before).
    archive = zipfile.ZipFile(io.BytesIO(_download(client, auditor, "/exports/audit-bundle.zip")))
    manifest = json.loads(archive.read("manifest.json"))
    lines = archive.read("audit/entries.jsonl").decode("utf-8").splitlines()
    assert len(lines) == AuditEntry.objects.count() == manifest["counts"]["audit/entries.jsonl"] > 5
    previous = "0" * 64
    actions = set()
    for line in lines:
        entry = json.loads(line)
        stated = entry.pop("hash")
        assert entry["prev_hash"] == previous
        canonical = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == stated
        previous = stated
        actions.add(entry["action"])
    assert previous == manifest["audit_chain_head"]["hash"]
    assert "+" in actions, "the fixture's works were created: their entries say so, unneutralised"
