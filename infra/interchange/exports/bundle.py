"""The audit bundle: every export, the full history, the audit chain, and a manifest of hashes.

The data exports follow the filters; the history and the audit entries are always complete, so
an auditor can verify the chain (`manage.py verify_audit` re-computes it) and match the manifest's
chain head against the live system. The bundle is built in a temporary folder and zipped there:
memory stays flat whatever the size.
"""
from __future__ import annotations

import csv
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import QuerySet
from django.utils import timezone

from infra.accounts.policy import role_of
from infra.audit.chain import KEPT_RECORDS, entry_payload
from infra.audit.models import AuditEntry
from infra.interchange.columns import neutralise
from infra.interchange.exports.gis import geojson_write, gpkg_write, kml_write, shapefile_zip_write
from infra.interchange.exports.oc4ids import oc4ids_write
from infra.interchange.exports.tabular import BOM, csv_write, xlsx_write
from infra.works.models import Work

__all__ = ["audit_head", "bundle_write", "history_models"]

_CHUNK = 2000


def audit_head() -> dict[str, Any] | None:
    """Return the last entry of the audit chain (sequence and hash), or None when it is empty."""
    head = AuditEntry.objects.order_by("-seq").values("seq", "hash").first()
    return dict(head) if head else None


def history_models() -> list[Any]:
    """Return every django-simple-history model, in a stable order."""
    found = [m for m in apps.get_models() if m.__name__.startswith("Historical") and hasattr(m, "instance_type")]
    return sorted(found, key=lambda m: m._meta.label)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, GEOSGeometry):
        return value.wkt
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(value) if isinstance(value, str) else value


def _table_csv(path: Path, queryset: QuerySet, fields: list[str]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(BOM)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fields)
        for row in queryset.values_list(*fields).iterator(chunk_size=_CHUNK):
            writer.writerow([_cell(v) for v in row])
            count += 1
    return count


def _whole_table(queryset: QuerySet) -> Callable[[Path], int]:
    """A bundle step writing every column of `queryset`'s rows as CSV."""
    fields = [f.attname for f in queryset.model._meta.concrete_fields]
    return lambda path: _table_csv(path, queryset, fields)


def _entries_jsonl(path: Path) -> int:
    """The audit entries as JSON Lines, each field as the chain hashes it (infra.audit.chain.entry_hash), and
    its hash: the CSV beside it is for reading (text a spreadsheet would run is neutralised there, so an
    action "+" reads "'+"); this file is for re-computing the chain without the system (docs/interchange.md)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=_CHUNK):
            handle.write(json.dumps({**entry_payload(entry), "hash": entry.hash}, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_write(out: IO[bytes], *, user: Any, works: QuerySet[Work], filters: dict[str, Any], base_url: str,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the bundle zip; return its manifest."""
    started = timezone.now()
    head = audit_head()  # read from the export's one state (exports.one_state), as every file is: nothing after it
    counts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="audit-bundle-") as temp:
        folder = Path(temp)

        def step(name: str, write: Callable[[Path], Any]) -> None:
            if progress:
                progress(name)
            counts[name] = write(folder / name)

        def into(writer: Callable[..., Any], **kwargs: Any) -> Callable[[Path], Any]:
            def run(path: Path) -> Any:
                with path.open("wb") as handle:
                    return writer(handle, **kwargs)
            return run

        step("works.csv", into(csv_write, user=user, works=works))
        step("works.xlsx", into(xlsx_write, user=user, works=works))
        step("works.geojson", into(geojson_write, works=works))
        step("works.kml", into(kml_write, works=works))
        step("works.gpkg", lambda path: gpkg_write(path, works=works))
        step("works-shapefiles.zip", into(shapefile_zip_write, works=works))
        step("oc4ids.json", into(oc4ids_write, works=works, base_url=base_url, published=started))
        # kept: rows kept as they were made (saved plans), each its own history row in the chain
        for name, order, tables in (("history", "history_id", history_models()),
                                    ("kept", "pk", [apps.get_model(label) for label in KEPT_RECORDS])):
            (folder / name).mkdir()
            for model in tables:
                step(f"{name}/{model._meta.label}.csv", _whole_table(model.objects.order_by(order)))
        (folder / "audit").mkdir()
        step("audit/entries.csv", _whole_table(AuditEntry.objects.order_by("seq")))
        step("audit/entries.jsonl", _entries_jsonl)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        manifest = {
            "format": "audit-bundle/1",
            "exported_at": timezone.localtime(started).isoformat(),
            "exported_by": {"id": user.pk, "username": user.get_username(), "role": role_of(user)},
            "filters": filters,
            "audit_chain_head": head,
            "counts": counts,
            "files": {str(p.relative_to(folder)): {"sha256": _sha256(p), "bytes": p.stat().st_size} for p in files},
        }
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for path in files:
                archive.write(path, arcname=str(path.relative_to(folder)))
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest
