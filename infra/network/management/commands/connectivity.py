"""manage.py connectivity — recompute village ↔ commune-centre connectivity and store it as a run."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from infra.network.services import DEFAULTS, run_compute, runs_prune
from infra.works.choices import STAGE_ORDER, Stage


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise CommandError(_("--together takes work ids separated by commas.")) from error


class Command(BaseCommand):
    help = _("Recompute whether each village is joined to its commune centre, and what proposed roads would add.")

    def add_arguments(self, parser):
        parser.add_argument("--threshold", default=Stage.COMPLETED, choices=[str(s) for s in STAGE_ORDER],
                            help=_("works count as built from this stage on (default: completed)"))
        parser.add_argument("--tolerance", type=float, default=DEFAULTS["tolerance_m"],
                            help=_("snapping tolerance in metres"))
        parser.add_argument("--attach", type=float, default=DEFAULTS["attach_m"],
                            help=_("how far a village or centre may be from the network, in metres"))
        parser.add_argument("--bridge-reach", type=float, default=DEFAULTS["bridge_reach_m"],
                            help=_("how far from a bridge the road ends it joins may be, in metres"))
        parser.add_argument("--access", type=float, default=DEFAULTS["access_m"],
                            help=_("distance to an all-season road for the Rural Access Index, in metres"))
        parser.add_argument("--together", type=_ids, default=None,
                            help=_("ids of proposed works to weigh as one set, separated by commas"))
        parser.add_argument("--keep", type=int, default=20, help=_("how many runs to keep (older ones are deleted)"))

    def handle(self, *args, **options):
        try:
            run = run_compute(threshold=options["threshold"], tolerance_m=options["tolerance"], attach_m=options["attach"],
                              bridge_reach_m=options["bridge_reach"], access_m=options["access"],
                              together=options["together"])
            pruned = runs_prune(keep=options["keep"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if options["verbosity"] >= 1:
            self.stdout.write(_(
                "Run %(id)s: %(connected)s of %(villages)s villages connected to their commune centre, "
                "%(hardened)s by a hardened road; %(proposals)s proposals weighed; %(ms)s ms."
            ) % {"id": run.pk, "connected": run.villages_connected, "villages": run.villages,
                 "hardened": run.villages_hardened, "proposals": run.proposals, "ms": run.duration_ms})
            if pruned:
                self.stdout.write(_("%(count)s older runs deleted.") % {"count": pruned})
