"""manage.py export FORMAT PATH [--user NAME] [--commune CODE[@DATE]] [--category …] [--stage …] [--year YYYY]"""
from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from infra.interchange.exports import FORMATS, export_write
from infra.interchange.exports.tabular import works_count
from infra.interchange.filters import export_works, filters_parse
from infra.interchange.progress import ProgressBar


class Command(BaseCommand):
    help = "Export works (csv, xlsx, geojson, gpkg, shp, kml, oc4ids, audit-bundle) to a file."
    # Reading needs no system checks (they load every URL module: most of a second before any row).
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("format", choices=sorted(FORMATS))
        parser.add_argument("path")
        parser.add_argument("--user", required=True,
                            help="the account the export is made as (its role decides what it may export and see)")
        parser.add_argument("--commune", help="code (today's commune) or code@YYYY-MM-DD (a former commune)")
        parser.add_argument("--category", action="append", help="repeatable or comma-separated")
        parser.add_argument("--stage", action="append", help="repeatable or comma-separated")
        parser.add_argument("--year", help="plan year")
        parser.add_argument("--base-url", default=getattr(settings, "SITE_URL", "http://127.0.0.1:8000"),
                            help="where the site is served, for links in OC4IDS")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        try:
            filters = filters_parse({name: options.get(name) for name in ("commune", "category", "stage", "year")})
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        path = Path(options["path"])
        bar = None
        if not options["no_progress"]:
            bar = ProgressBar(works_count(export_works(user=user, filters=filters)))
        # Written beside the path under another name and renamed only when whole: an export that fails or is
        # interrupted leaves no file that looks complete, and a file already at the path stays as it was.
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        if path.exists() and not path.is_file():
            partial = path  # a device or a pipe (/dev/stdout): written straight, as nothing can be renamed onto it
        try:
            with partial.open("wb") as out:
                result = export_write(fmt=options["format"], out=out, user=user, filters=filters,
                                      base_url=options["base_url"], progress=bar)
            if partial != path:
                os.replace(partial, path)
        except PermissionDenied:
            raise CommandError(f"{user.get_username()} may not make this export.") from None
        finally:
            if partial != path:
                partial.unlink(missing_ok=True)
        if bar:
            bar.finish()
        if isinstance(result, dict):
            result = {key: value for key, value in result.items() if key != "files"}
        self.stdout.write(f"{path}: {result}")
