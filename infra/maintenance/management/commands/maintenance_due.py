"""manage.py maintenance_due --days 30 [--commune CODE] [--email]: what is due, per responsible party; safe from cron.

It only reads: running it again prints (and sends) the same list. Exit status 0 unless the
input is wrong or a requested email cannot be sent.
"""
from __future__ import annotations

from itertools import groupby

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from infra.maintenance.forms import parse_commune
from infra.maintenance.selectors import DueTask, tasks_due
from infra.money import format_vnd

MAX_DAYS = 3660


def reminder_text(tasks: list[DueTask], *, days: int, today) -> tuple[str, str]:
    """Return the subject and body of the reminder: tasks grouped by responsible party and commune."""
    subject = ngettext("Maintenance: %(count)s task due within %(days)s days",
                       "Maintenance: %(count)s tasks due within %(days)s days", len(tasks)) % {"count": len(tasks), "days": days}
    lines = [subject, _("As of %(date)s.") % {"date": today.strftime("%d/%m/%Y")}]
    if not tasks:
        lines.append(_("Nothing is due."))
    for (responsible, commune), group in groupby(tasks, key=lambda t: (t.responsible_label, t.commune)):
        group = list(group)
        lines += ["", f"{responsible} – {commune or _('commune not known')} ({len(group)})"]
        for task in group:
            state = _("OVERDUE since %(date)s") if task.overdue_on(today) else _("due %(date)s")
            lines.append(f"  - {state % {'date': task.next_due.strftime('%d/%m/%Y')}}: {task.work_code} {task.work_name} · "
                         f"{task.task_label}{' – ' + task.description if task.description else ''} · "
                         + (f"{format_vnd(task.estimated_cost)} VND" if task.estimated_cost is not None
                            else _("no cost estimate")))
    return subject, "\n".join(lines) + "\n"


HELP = gettext_lazy("Print the maintenance tasks due within N days (and overdue ones), per responsible party; "
                        "email them when email is configured.")


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # argparse needs a str, not a lazy translation.
        return str(HELP)

    def add_arguments(self, parser):
        parser.add_argument("--days", default="30", help=gettext_lazy("look this many days ahead (default 30)"))
        parser.add_argument("--commune", default="",
                            help=gettext_lazy("only this commune: its code, or code@date for a former one"))
        parser.add_argument("--email", action="store_true",
                            help=gettext_lazy("send the list to settings.MAINTENANCE_REMINDER_RECIPIENTS"))

    def handle(self, *args, **options):
        days = str(options["days"]).strip()
        if not days.isascii() or not days.isdigit() or int(days) > MAX_DAYS:
            raise CommandError(_("--days must be a whole number of days from 0 to %(max)s.") % {"max": MAX_DAYS})
        days = int(days)
        try:
            commune = parse_commune(options["commune"])
        except ValidationError as error:
            raise CommandError(" ".join(m for ms in error.message_dict.values() for m in ms)) from None
        today = timezone.localdate()
        tasks = tasks_due(user=None, within_days=days, today=today, commune=commune)
        subject, body = reminder_text(tasks, days=days, today=today)
        self.stdout.write(body, ending="")
        recipients = list(getattr(settings, "MAINTENANCE_REMINDER_RECIPIENTS", []) or [])
        wanted = options["email"] or (bool(recipients) and settings.is_overridden("EMAIL_HOST"))
        if not wanted:
            return
        if not recipients:
            raise CommandError(_("--email needs settings.MAINTENANCE_REMINDER_RECIPIENTS (a list of addresses)."))
        if not tasks:
            self.stdout.write(_("Nothing due: no email sent."))
            return
        try:
            send_mail(subject, body, None, recipients)
        except OSError as error:
            raise CommandError(_("The reminder could not be sent: %(error)s") % {"error": error}) from None
        self.stdout.write(ngettext("Sent to %(count)s address.", "Sent to %(count)s addresses.", len(recipients))
                          % {"count": len(recipients)})
