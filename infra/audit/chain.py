"""Build and check the hash chain over history rows.

Each entry's hash covers its own fields and the previous entry's hash, so changing, removing or
reordering any entry breaks every hash after it. Each entry also keeps a snapshot of its history
row, so changing a history row behind the application's back is caught too.

Records that are kept as they were made and never change (KEPT_RECORDS: a saved maintenance plan, its
lines and the tasks it left out) have no history table: each such row is its own history row, and gets
one entry when it is stored (on_kept_records), checked against the row as any entry is.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, models, transaction
from django.utils import timezone

from infra.audit.models import AuditEntry

__all__ = ["GENESIS", "KEPT_RECORDS", "Break", "entry_hash", "entry_payload", "on_historical_record", "on_kept_records",
           "kept_entries", "lock_chain", "snapshot", "unchained_kept_row", "verify_chain"]

GENESIS = "0" * 64
# One constant key for PostgreSQL's advisory lock: appends to the chain are serialised.
_CHAIN_LOCK_KEY = 0x41554454  # "AUDT"
# Models whose rows never change once stored: chained row by row, and append-only like history (guards).
KEPT_RECORDS = ("maintenance.SavedPlan", "maintenance.SavedPlanLine", "maintenance.SavedPlanLeftOut")


def _value(field: models.Field, value: Any) -> Any:
    """Return a field value in one canonical JSON form, whatever Python type carried it."""
    if value is None:
        return None
    if isinstance(value, GEOSGeometry):
        return f"SRID={value.srid};{value.wkt}"
    if isinstance(field, models.DecimalField):
        return str(Decimal(str(value)).quantize(Decimal(1).scaleb(-field.decimal_places)))
    if isinstance(field, models.DateTimeField):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(field, models.DateField):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(field, models.JSONField):
        return value
    if isinstance(value, (bool, int, str, float)):
        return value
    return str(value)


def snapshot(record: models.Model) -> dict[str, Any]:
    """Return the tracked values of a history row (its history_* bookkeeping excluded)."""
    return {
        field.attname: _value(field, getattr(record, field.attname))
        for field in record._meta.concrete_fields
        if not field.name.startswith("history_")
    }


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    """Return what an entry's hash covers: its content and the hash before it, as JSON values."""
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at.isoformat(),
        "user_id": entry.user_id,
        "username": entry.username,
        "model_label": entry.model_label,
        "object_pk": entry.object_pk,
        "history_model": entry.history_model,
        "history_id": entry.history_id,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: AuditEntry) -> str:
    """Return the SHA-256 over an entry's content and the hash before it (entry_payload, as canonical JSON)."""
    return hashlib.sha256(_canonical(entry_payload(entry)).encode("utf-8")).hexdigest()


def lock_chain(using: Any = None) -> None:
    """Serialise appends to the chain until the transaction ends (on `using`, a connection; Django's by default)."""
    using = using or connection
    if using.vendor == "postgresql":
        with using.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    # SQLite allows one writer at a time already.


def _history_user(written: models.Model, stored: models.Model) -> Any:
    """Who the stored history row names: the person simple-history wrote it for when the row names that person
    (their username without asking for them again: one query fewer per entry), else read from the database."""
    cached = written._state.fields_cache.get("history_user")
    if cached is not None and cached.pk == getattr(stored, "history_user_id", None):
        return cached
    return getattr(stored, "history_user", None)


def on_historical_record(sender, history_instance, **kwargs) -> None:
    """Append the chained entry for a history row that simple-history just wrote."""
    with transaction.atomic():
        lock_chain()
        # Read the row back: the snapshot must be what the database holds, not what Python had.
        history_model = type(history_instance)
        stored = history_model.objects.get(pk=history_instance.pk)
        previous = stored.prev_record if stored.history_type != "+" else None
        last = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
        user = _history_user(history_instance, stored)
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1,
            recorded_at=timezone.now(),
            user_id=getattr(user, "pk", None),
            username=getattr(user, "username", "") or "",
            model_label=stored.instance_type._meta.label,
            object_pk=str(getattr(stored, stored.instance_type._meta.pk.attname)),
            history_model=history_model._meta.label,
            history_id=stored.pk,
            action=stored.history_type,
            before=snapshot(previous) if previous is not None else None,
            after=snapshot(stored),
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)


def on_kept_records(records: list[models.Model], *, user: Any) -> None:
    """Append one chained entry per row of KEPT_RECORDS just stored by `user`, in the caller's transaction.

    The rows are read back, as on_historical_record reads its row: the snapshot is what the database holds."""
    stored: dict[str, dict[Any, models.Model]] = {}
    for label in {record._meta.label for record in records}:
        if label not in KEPT_RECORDS:
            raise ValueError(f"{label} is not a kept record")
        stored[label] = apps.get_model(label).objects.in_bulk([r.pk for r in records if r._meta.label == label])
    with transaction.atomic():
        lock_chain()
        who = (getattr(user, "pk", None), getattr(user, "username", "") or "")
        AuditEntry.objects.bulk_create(kept_entries(
            AuditEntry, [(stored[r._meta.label][r.pk], who) for r in records]))


def kept_entries(entry_model: type[models.Model], rows: list[tuple[models.Model, tuple[Any, str]]]) -> list[Any]:
    """The chained entries, after the chain's head, of rows of KEPT_RECORDS as the database holds them, each with
    who stored it (user id, user name); not saved. `entry_model`: AuditEntry, or a migration's own model of it
    (audit migration 0002 chains the plans saved before this)."""
    last = entry_model.objects.order_by("-seq").only("seq", "hash").first()
    seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
    now = timezone.now()
    entries = []
    for row, (user_id, username) in rows:
        label = row._meta.label
        seq += 1
        entry = entry_model(seq=seq, recorded_at=now, user_id=user_id, username=username, model_label=label,
                            object_pk=str(row.pk), history_model=label, history_id=row.pk, action="+", before=None,
                            after=snapshot(row), prev_hash=previous)
        entry.hash = previous = entry_hash(entry)
        entries.append(entry)
    return entries


def _same_row(current: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """Whether a history row still says what was recorded.

    A column added by a later migration is not tampering: it may be present now and empty
    (None or "") although the entry, written before it existed, does not mention it.
    """
    if any(current.get(key, _MISSING) != value for key, value in recorded.items()):
        return False
    return all(current[key] in (None, "") for key in current.keys() - recorded.keys())


_MISSING = object()


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    seq: int
    model_label: str
    object_pk: str
    history_model: str
    history_id: int
    reason: str


def unchained_kept_row(after_seq: int = 0) -> Break | None:
    """The first row of KEPT_RECORDS that no entry holds. Each gets its entry when it is stored (on_kept_records;
    rows stored before that were given theirs by audit migration 0002), and their tables refuse UPDATE and
    DELETE, but not INSERT: a line added to a saved plan behind the application's back is such a row."""
    for label in KEPT_RECORDS:
        chained = AuditEntry.objects.filter(history_model=label, history_id=models.OuterRef("pk"))
        found = (apps.get_model(label).objects.filter(~models.Exists(chained)).order_by("pk")
                 .values_list("pk", flat=True).first())
        if found is not None:
            return Break(after_seq + 1, label, str(found), label, found, "kept_row_unchained")
    return None


def verify_chain(*, chunk: int = 2000) -> tuple[int, Break | None]:
    """Re-compute the chain; return how many entries were checked and the first break, if any (then whether every
    row of KEPT_RECORDS is in it: unchained_kept_row)."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        entries = list(AuditEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:chunk])
        if not entries:
            return checked, unchained_kept_row(last_seq)
        rows: dict[str, dict[int, models.Model]] = {}
        for label in {e.history_model for e in entries}:
            model = apps.get_model(label)
            ids = [e.history_id for e in entries if e.history_model == label]
            rows[label] = model.objects.in_bulk(ids)
        for entry in entries:
            problem = None
            if entry.seq != expected_seq:
                problem = "missing_entry"
            elif entry.prev_hash != expected_prev:
                problem = "previous_hash"
            elif entry_hash(entry) != entry.hash:
                problem = "entry_altered"
            else:
                row = rows[entry.history_model].get(entry.history_id)
                if row is None:
                    problem = "history_row_missing"
                elif not _same_row(snapshot(row), entry.after):
                    problem = "history_row_altered"
            if problem:
                return checked, Break(entry.seq, entry.model_label, entry.object_pk, entry.history_model, entry.history_id, problem)
            checked += 1
            expected_prev = entry.hash
            expected_seq += 1
            last_seq = entry.seq
