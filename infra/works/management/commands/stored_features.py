"""manage.py stored_features [--rebuild]: check (or rebuild) each work's stored Feature text and the kept
counts of works by category and stage (PostGIS).

Without options it compares every stored text with one built afresh, and the counts with the works,
and exits 1 when any differs or is missing, naming the first; `--rebuild` rebuilds them all, holding
writers off meanwhile (infra/works/features.py). On SpatiaLite nothing is stored: it says so and does
nothing.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from infra.works import features


class Command(BaseCommand):
    help = _("Check each work's stored map feature against the work, its money and its upkeep, and the kept counts of "
             "works; --rebuild rebuilds them all.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rebuild", action="store_true", help=_("rebuild every stored feature"))

    def handle(self, *args, rebuild: bool = False, **options) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write(_("This database builds map features on every request and stores none: nothing to do."))
            return
        if rebuild:
            count = features.rebuild()
            self.stdout.write(_("Rebuilt %(count)s stored features.") % {"count": f"{count:,}"})
            return
        wrong = features.stale()
        if wrong:
            raise CommandError(_("%(count)s stored features differ from their works (ids %(ids)s); run with --rebuild.")
                               % {"count": len(wrong), "ids": ", ".join(map(str, wrong[:20]))})
        counts = features.count_errors()
        if counts:
            raise CommandError(_("The kept counts of works differ from the works (%(which)s); run with --rebuild.")
                               % {"which": ", ".join(f"{category}/{stage}: {kept} ≠ {counted}"
                                                     for category, stage, kept, counted in counts[:20])})
        self.stdout.write(_("Every stored feature matches its work, and every kept count the works."))
