"""Write a commune's printable map (self-contained HTML: works, village links, a numbered table)."""
from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from infra.api.params import WorkMapParams
from infra.works.views import commune_map_document


class Command(BaseCommand):
    help = _("Write the printable map of a commune's works to an HTML file that needs no internet.")

    def add_arguments(self, parser):
        parser.add_argument("output", help=_("the HTML file to write ('-' for standard output)"))
        parser.add_argument("--commune", required=True,
                            help=_("commune code (03549), or code@date for a former commune (03562@2025-06-30)"))
        parser.add_argument("--user", help=_("show what this user may see (default: what the public sees)"))
        parser.add_argument("--category", help=_("only these categories, comma-separated"))
        parser.add_argument("--stage", help=_("only these stages, comma-separated"))
        parser.add_argument("--year", help=_("only works of this plan year"))

    def handle(self, *args, **options):
        user = AnonymousUser()
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(_("No user named %(name)s.") % {"name": options["user"]}) from None
        query = {name: options[name] for name in ("commune", "category", "stage", "year") if options[name]}
        try:
            params = WorkMapParams.parse(query)
        except ValidationError as error:
            messages = [f"{field}: {message}" for field, items in error.detail.items() for message in items]
            raise CommandError(" ".join(messages)) from None
        document = commune_map_document(user=user, filters=params.filters())
        if options["output"] == "-":
            self.stdout.write(document)
            return
        path = Path(options["output"])
        path.write_text(document, encoding="utf-8")
        if options["verbosity"]:
            self.stdout.write(_("Wrote %(path)s.") % {"path": path})
