"""manage.py reconcile: money by year, source and kind, and every discrepancy found."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from infra.finance.models import CapitalKind, Source
from infra.finance.selectors import money_by_commune, money_by_programme_line, money_summary, reconciliation_findings

AMOUNT_COLUMNS = ("plan", "allocated", "disbursed", "unallocated", "remaining")


def _vnd(amount: int) -> str:
    # Django's vi locale sets no NUMBER_GROUPING, so group by hand with the language's separator.
    return f"{amount:,}".replace(",", get_format("THOUSAND_SEPARATOR"))


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # A property, not gettext_lazy: argparse cannot format lazy strings.
        return _("Print plan, allocated, disbursed and remaining money, and every reconciliation finding.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help=_("only this plan year"))
        parser.add_argument(
            "--fail-on-findings", action="store_true",
            help=_("exit with status 1 when there is any finding (for scheduled checks)"),
        )

    def handle(self, *args, year: int | None, fail_on_findings: bool, **options):
        headers = {
            "plan": _("plan"), "allocated": _("allocated"), "disbursed": _("disbursed"),
            "unallocated": _("unallocated"), "remaining": _("remaining"),
        }
        self.stdout.write(self.style.MIGRATE_HEADING(_("Money by year, source and kind (VND)")))
        rows = money_summary(year=year)
        if not rows:
            self.stdout.write(_("No capital plans."))
        for row in rows:
            label = f"{row['year']} · {Source(row['source']).label} · {CapitalKind(row['kind']).label}"
            amounts = " · ".join(f"{headers[column]} {_vnd(row[column])}" for column in AMOUNT_COLUMNS)
            self.stdout.write(f"  {label}: {amounts}")
        self.stdout.write(self.style.MIGRATE_HEADING(_("Allocated and disbursed by programme line (VND)")))
        for row in money_by_programme_line():
            self.stdout.write(f"  {row['line']}: {headers['allocated']} {_vnd(row['allocated'])} · "
                              f"{headers['disbursed']} {_vnd(row['disbursed'])}")
        self.stdout.write(self.style.MIGRATE_HEADING(_("Allocated and disbursed by commune of the works (VND)")))
        for row in money_by_commune():
            self.stdout.write(f"  {row['commune']}: {headers['allocated']} {_vnd(row['allocated'])} · "
                              f"{headers['disbursed']} {_vnd(row['disbursed'])}")
        findings = reconciliation_findings()
        self.stdout.write(self.style.MIGRATE_HEADING(_("Reconciliation findings (reported, not corrected)")))
        if not findings:
            self.stdout.write(self.style.SUCCESS(_("No findings.")))
        for finding in findings:
            self.stdout.write(self.style.WARNING(f"  [{finding.code}] {finding.message}"))
        if findings and fail_on_findings:
            raise CommandError(_("%(count)d reconciliation finding(s).") % {"count": len(findings)}, returncode=1)
