"""Everything that changed about one work — its stages, investors, documents, money and upkeep."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.gis.db.models import GeometryField
from django.db.models import BigIntegerField, Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from infra.money import format_vnd
from infra.works.models import Work


@dataclass(frozen=True)
class HistoryLine:
    """One change: when, to what record, what was done, by whom, and each field's before → after."""

    when: datetime
    what: str
    record: str
    action: str
    who: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _instance(record):
    """The object as `record` saw it, for its text. Unlike simple_history's `record.instance`, fields the
    history leaves out (a work's `updated_at`) stay at their defaults instead of being read, one query
    per row, from the object as it is now."""
    model = record.instance_type
    return model(**{f.attname: getattr(record, f.attname) for f in model._meta.concrete_fields if hasattr(record, f.attname)})


def _named(model) -> list:
    """Prefetches of the objects `model`'s foreign keys name, without their geometries (a commune's boundary,
    a work's shape): a history row's text needs their names, not their maps."""
    lookups = []
    for field in model._meta.concrete_fields:
        if not field.many_to_one:
            continue
        related = field.related_model
        shapes = [f.name for f in related._meta.concrete_fields if isinstance(f, GeometryField)]
        lookups.append(Prefetch(field.name, queryset=related._base_manager.defer(*shapes)) if shapes else field.name)
    return lookups


def _shown(model_field, value, names: dict[tuple, str]) -> str:
    """A value as a person reads it: a choice by its label, a related record by its name (not its id), a date as
    dd/mm/yyyy, a time in Vietnam's, money with its thousands marked, yes or no, and "—" for nothing."""
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.many_to_one:
        key = (model_field.related_model, value)
        if key not in names:
            found = model_field.related_model._base_manager.filter(pk=value).only("pk").first()
            names[key] = f"{found} (#{value})" if found is not None else f"#{value}"
        return names[key]
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "d/m/Y H:i")
    if isinstance(value, date):
        return date_format(value, "d/m/Y")
    if isinstance(model_field, BigIntegerField) and isinstance(value, int):
        return format_vnd(value)
    return str(value)


def _lines(records, label: str) -> list[HistoryLine]:
    """The lines of `records` (one model's history rows), in a fixed number of queries whatever their
    number: each row's previous version (simple_history's `prev_record`, the same object's latest row
    dated before it) is found among the rows read, and the objects the rows' own text names (a stage
    change's work, an allocation's programme line) are read once per kind."""
    records = list(records.select_related("history_user").order_by("history_date", "history_id"))
    instances = [_instance(record) for record in records]
    if instances:
        model = type(instances[0])
        prefetch_related_objects(instances, *_named(model))
    seen: dict[object, list] = {}
    names: dict[tuple, str] = {}
    lines = []
    for record, instance in zip(records, instances, strict=True):
        earlier = seen.setdefault(instance.pk, [])
        previous = next((r for r in reversed(earlier) if r.history_date < record.history_date), None)
        earlier.append(record)
        changes = []
        if record.history_type == "~" and previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                model_field = instance._meta.get_field(change.field)
                changes.append((str(model_field.verbose_name), _shown(model_field, change.old, names),
                                _shown(model_field, change.new, names)))
        lines.append(HistoryLine(when=record.history_date, what=label, record=str(instance),
                                 action=record.get_history_type_display(), who=str(record.history_user or "—"), changes=changes))
    return lines


def work_own_history(*, work: Work) -> list[HistoryLine]:
    """Return the history rows of the work itself, oldest first."""
    return _lines(work.history.all(), str(Work._meta.verbose_name))


def work_related_history(*, work: Work) -> list[HistoryLine]:
    """Return the history rows of every record attached to the work, oldest first."""
    # Imported here: finance and maintenance depend on works, not the other way round.
    from infra.finance.models import Allocation, Disbursement
    from infra.maintenance.models import Inspection, Record, Schedule
    from infra.works.models import StageEvent, WorkDocument, WorkInvestor

    sources = [
        (StageEvent.history.filter(work_id=work.pk), StageEvent._meta.verbose_name),
        (WorkInvestor.history.filter(work_id=work.pk), WorkInvestor._meta.verbose_name),
        (WorkDocument.history.filter(work_id=work.pk), WorkDocument._meta.verbose_name),
        (Allocation.history.filter(work_id=work.pk), Allocation._meta.verbose_name),
        (Disbursement.history.filter(allocation__work_id=work.pk), Disbursement._meta.verbose_name),
        (Schedule.history.filter(work_id=work.pk), Schedule._meta.verbose_name),
        (Inspection.history.filter(work_id=work.pk), Inspection._meta.verbose_name),
        (Record.history.filter(work_id=work.pk), Record._meta.verbose_name),
    ]
    lines: list[HistoryLine] = []
    for records, label in sources:
        lines += _lines(records, str(label))
    return sorted(lines, key=lambda line: line.when)
