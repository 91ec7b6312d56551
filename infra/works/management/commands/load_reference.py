"""manage.py load_reference: the real reference data (geography of both vintages, Plan 245)."""
from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from gis.reference import load_geography
from infra.finance.reference import load_plan_245
from infra.finance.selectors import reconciliation_findings


def _labels() -> dict[str, str]:
    # Built per call so the labels follow the language active when the command runs.
    return {
        "provinces": _("provinces"),
        "districts": _("districts (before 1 July 2025)"),
        "former_communes": _("communes before 1 July 2025"),
        "communes": _("communes and wards from 1 July 2025"),
        "successions": _("successions"),
        "base_roads": _("base roads"),
        "repaired_boundaries": _("boundaries repaired (make_valid)"),
        "organisations": _("organisations"),
        "programme_lines": _("programme lines"),
        "capital_decisions": _("capital decisions"),
        "capital_plans": _("capital plans"),
        "created": _("rows created"),
        "updated": _("rows updated"),
        "unchanged": _("rows unchanged"),
    }


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # A property, not gettext_lazy: argparse cannot format lazy strings.
        return _(
            "Load the real reference data: administrative units of both vintages, successions, base roads "
            "and Plan 245. Safe to run again: unchanged rows are left alone."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures-dir", type=Path, default=Path(settings.BASE_DIR) / "fixtures",
            help=_("folder holding plan_245.json and geo/ (default: the project's fixtures/)"),
        )

    def handle(self, *args, fixtures_dir: Path, verbosity: int, **options):
        started = time.perf_counter()
        # One transaction: a failure half-way leaves the database as it was.
        with transaction.atomic():
            geography = load_geography(fixtures_dir=fixtures_dir)
            plan = load_plan_245(fixtures_dir=fixtures_dir)
        if verbosity < 1:
            return
        findings = reconciliation_findings()
        labels = _labels()
        for title, counts in ((_("Geography"), geography), (_("Plan 245"), plan)):
            self.stdout.write(self.style.MIGRATE_HEADING(title))
            for key, count in counts.items():
                self.stdout.write(f"  {labels.get(key, key)}: {count}")
        if findings:
            self.stdout.write(self.style.MIGRATE_HEADING(_("Reconciliation findings (reported, not corrected)")))
            for finding in findings:
                self.stdout.write(self.style.WARNING(f"  [{finding.code}] {finding.message}"))
        else:
            self.stdout.write(self.style.SUCCESS(_("Reconciliation: no findings.")))
        if verbosity >= 2:
            self.stdout.write(_("Finished in %(seconds).2f s.") % {"seconds": time.perf_counter() - started})
