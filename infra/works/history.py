"""Everything that changed about one work — its stages, investors, documents, money and upkeep."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


def _lines(records, label: str) -> list[HistoryLine]:
    lines = []
    for record in records.select_related("history_user").order_by("history_date", "history_id"):
        changes = []
        if record.history_type == "~" and record.prev_record is not None:
            delta = record.diff_against(record.prev_record)
            changes = [(str(record.instance._meta.get_field(c.field).verbose_name), str(c.old), str(c.new)) for c in delta.changes]
        lines.append(HistoryLine(when=record.history_date, what=label, record=str(record.instance),
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
