"""manage.py import_works FILE --user NAME [--crs EPSG] [--dry-run]"""
from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from infra.interchange.crs import ALLOWED_CRS
from infra.interchange.imports.services import works_import


class Command(BaseCommand):
    help = ("Import works from CSV, XLSX, GeoJSON, GeoPackage, a zipped Shapefile or KML. Every row is checked; "
            "then all rows are created, or none.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="the account the works are created as (needs the board's role)")
        parser.add_argument("--crs", type=int, choices=sorted(ALLOWED_CRS),
                            help="EPSG code of the file's coordinates when the file does not say (4326, 4756, 9205, 3405)")
        parser.add_argument("--dry-run", action="store_true", help="check and report; create nothing")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = works_import(user=user, path=path, name=path.name, crs=options["crs"], dry_run=options["dry_run"])
        except PermissionDenied:
            raise CommandError(f"{user.get_username()} may not create works.") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        for row in report.rows:
            verdict = "accepted" if row.accepted else "; ".join(row.reasons)
            self.stdout.write(f"row {row.number} {row.code or '—'}: {verdict}")
        if report.refused:
            raise CommandError(f"{len(report.refused)} of {len(report.rows)} rows refused: nothing was imported.")
        if options["dry_run"]:
            self.stdout.write(f"Dry run: all {len(report.rows)} rows would be imported.")
        else:
            self.stdout.write(f"Imported {report.created} works.")
