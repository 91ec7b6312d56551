"""Import works from a file: check it, report every row, then create all rows or none."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from infra.accounts.policy import Action, require
from infra.interchange.crs import crs_check
from infra.interchange.imports.readers import source_read
from infra.interchange.imports.validate import RowResult, rows_validate
from infra.interchange.safety import file_check
from infra.works.selectors import province_area_kept
from infra.works.services import work_create

__all__ = ["ImportReport", "works_import"]


@dataclass
class ImportReport:
    file: str
    kind: str
    crs: int | None
    rows: list[RowResult] = field(default_factory=list)
    created: int = 0
    committed: bool = False

    @property
    def refused(self) -> list[RowResult]:
        return [r for r in self.rows if not r.accepted]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.refused


def works_import(*, user: Any, path: Path, name: str, crs: Any = None, dry_run: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check a file and, unless `dry_run`, create every work in it in one transaction.

    Raise PermissionDenied unless the person may create works, ValidationError when the file
    itself is refused (unsafe, unreadable, wrong coordinate system). Row problems are in the
    report; if any row is refused, nothing is created. `progress` is called with the rows created
    so far and the rows to create, before the first and after each (within the transaction: what it
    reports is not yet committed).
    """
    require(user, Action.WORK_CREATE)
    epsg = crs_check(crs) if crs not in (None, "") else None
    checked = file_check(path, name=name)
    source = source_read(checked)
    if not source.rows:
        raise ValidationError(_("The file holds no rows."))
    # Every row is checked (and created) against the same province outline: read and prepared once.
    with province_area_kept():
        return _checked_and_created(user, checked, source, epsg, dry_run, progress)


def _checked_and_created(user: Any, checked: Any, source: Any, epsg: int | None, dry_run: bool,
                         progress: Callable[[int, int], None] | None) -> ImportReport:
    report = ImportReport(file=checked.name, kind=checked.kind, crs=epsg or source.crs,
                          rows=rows_validate(source, crs=epsg))
    if dry_run or report.refused:
        return report
    with transaction.atomic():
        if progress:
            progress(0, len(report.rows))
        for row in report.rows:
            fields = dict(row.fields)
            try:
                work_create(user=user, code=row.code, name=fields.pop("name"), category=fields.pop("category"),
                            geometry=fields.pop("geometry"), approved_year=fields.pop("approved_year"),
                            stage=fields.pop("stage"), **fields)
            except ValidationError as error:
                # A rule only the database or the service checks: refuse the whole file, say which row.
                row.reasons += [str(m) for m in error.messages]
                transaction.set_rollback(True)
                report.created = 0
                return report
            report.created += 1
            if progress:
                progress(report.created, len(report.rows))
    report.committed = True
    return report
