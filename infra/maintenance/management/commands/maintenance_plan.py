"""manage.py maintenance_plan --year 2027 --budget 500000000 [--commune CODE]: the ranked yearly plan as text."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from infra.maintenance.forms import parse_commune
from infra.maintenance.models import TaskKind
from infra.maintenance.planner import check_inputs, line_reasons
from infra.maintenance.selectors import plan_for
from infra.money import format_vnd


def _errors(error: ValidationError) -> str:
    return " ".join(message for messages in error.message_dict.values() for message in messages)


HELP = gettext_lazy("Print the maintenance plan for a year within a budget: ranked lines, why, and what falls outside.")


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # argparse needs a str, not a lazy translation.
        return str(HELP)

    def add_arguments(self, parser):
        parser.add_argument("--year", required=True, help=gettext_lazy("plan year, 2000–2100"))
        parser.add_argument("--budget", required=True, help=gettext_lazy("budget in VND, a whole number ≥ 0"))
        parser.add_argument("--commune", default="",
                            help=gettext_lazy("only this commune: its code, or code@date for a former one"))

    def handle(self, *args, **options):
        try:
            year, budget = check_inputs(year=options["year"], budget=options["budget"])
            commune = parse_commune(options["commune"])
        except ValidationError as error:
            raise CommandError(_errors(error)) from None
        today = timezone.localdate()
        plan = plan_for(user=None, year=year, budget=budget, commune=commune, today=today)
        where = f" – {commune.unit_type} {commune.name}" if commune else ""
        out = self.stdout
        out.write(_("Maintenance plan %(year)s%(where)s") % {"year": year, "where": where})
        out.write(_("Budget %(budget)s VND; planned %(total)s VND; left %(left)s VND; asked for by all due tasks %(demand)s VND.")
                  % {"budget": format_vnd(plan.budget), "total": format_vnd(plan.total), "left": format_vnd(plan.left),
                     "demand": format_vnd(plan.demand)})
        for title, lines in ((_("Within the budget"), plan.funded), (_("Outside the budget"), plan.outside)):
            out.write("")
            out.write(f"{title} ({len(lines)})")
            if not lines:
                out.write("  " + _("none"))
            for line in lines:
                c = line.candidate
                out.write(f"{line.rank:>5}. {c.work_code} {c.work_name} · {c.commune} · {TaskKind(c.task_kind).label} · "
                          f"{c.next_due:%d/%m/%Y} · {format_vnd(line.cost)} VND")
                out.write("       " + "; ".join(line_reasons(line, plan=plan, today=today)))
