"""manage.py load_demo: reference data plus synthetic villages, roads, works, money, maintenance and logins."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


from gis.models import BaseRoad, Village
from infra.demo.loader import demo_load
from infra.finance.models import Allocation, Disbursement
from infra.maintenance.models import Inspection, Record, Schedule
from infra.works.models import Work

# The models' own plural names label the counts, so the command adds no words to translate.
_LABELS = {
    "villages": Village,
    "roads": BaseRoad,
    "works": Work,
    "allocations": Allocation,
    "disbursements": Disbursement,
    "schedules": Schedule,
    "records": Record,
    "inspections": Inspection,
}


def _shown(path: Path) -> str:
    # Relative to the project when it lies inside it: that is how make run's message names it.
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # A property, not gettext_lazy: argparse cannot format lazy strings (manage.py help load_demo).
        return _(
            "Load the reference data and synthetic demo data (flagged as demo), and create one demo login per role "
            "where allowed. Safe to run again: a loaded demo is left as it is."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--logins-file",
            type=Path,
            default=Path(settings.VAR_DIR) / "demo-logins.txt",
            help=_("where new demo logins are written, readable by the owner only (default: var/demo-logins.txt)"),
        )

    def handle(self, *args, logins_file: Path, verbosity: int, **options):
        call_command("load_reference", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        started = time.perf_counter()
        outcome = demo_load(logins_file=logins_file)
        if verbosity < 1:
            return
        if outcome.generated:
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    _("Demo data loaded in %(seconds).1f s (synthetic, flagged as demo):")
                    % {"seconds": time.perf_counter() - started}
                )
            )
            for key, count in outcome.counts.items():
                self.stdout.write(f"  {_LABELS[key]._meta.verbose_name_plural}: {count}")
        else:
            self.stdout.write(self.style.SUCCESS(_("Demo data is already loaded; nothing was changed.")))
        users = outcome.users
        if not users.allowed:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Demo logins were not created: DEBUG is off and ALLOW_DEMO_USERS is not 1 "
                        "(production settings never get demo users)."
                    )
                )
            )
        elif users.created:
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    _("Demo logins (shown once; also written to %(path)s):") % {"path": _shown(logins_file)}
                )
            )
            for username, password, role in users.created:
                self.stdout.write(f"  {username} / {password} / {role}")
        else:
            self.stdout.write(_("Demo logins: see %(path)s") % {"path": _shown(logins_file)})
