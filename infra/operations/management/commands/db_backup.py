"""manage.py db_backup [--into DIR]: back up the database named by DATABASE_URL."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from infra.operations.fingerprint import summary
from infra.operations.services import MANIFEST, BackupRefused, backup_create


class Command(BaseCommand):
    help = ("Back up the database: pg_dump -Fc of one snapshot (PostGIS) or a copy through SQLite's online backup API "
            "(SpatiaLite), with its checksum and fingerprint in backup.json. Safe while the server runs.")

    def add_arguments(self, parser):
        parser.add_argument("--into", type=Path, default=Path(settings.VAR_DIR) / "backups",
                            help="the folder that receives the backup's own folder (default var/backups)")

    def handle(self, *args, **options):
        try:
            folder = backup_create(database=connection.settings_dict, into=options["into"])
        except BackupRefused as error:
            raise CommandError(f"Backup failed: {error}") from None
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        self.stdout.write(f"Backup written to {folder}/ ({manifest['file']}, {manifest['bytes']:,} bytes, "
                          f"sha256 {manifest['sha256'][:16]}…)")
        self.stdout.write(summary(manifest["fingerprint"]))
        self.stdout.write(f"Restore it with: make restore BACKUP={folder}")
