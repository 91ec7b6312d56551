"""manage.py db_restore FOLDER [--replace]: restore a backup into the database named by DATABASE_URL."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from infra.operations.fingerprint import summary
from infra.operations.services import BackupRefused, backup_restore


class Command(BaseCommand):
    help = ("Restore a backup folder (made by db_backup) into the database named by DATABASE_URL, which must not exist "
            "yet or be empty. The copy is checked against the backup's checksum, fingerprint and audit chain before it "
            "takes the database's place; if anything fails, nothing is restored.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument("--replace", action="store_true",
                            help="restore even if the database holds data (stop the server first); the old data is kept "
                                 "under another name, printed at the end")

    def handle(self, *args, **options):
        # Django must not hold the target open: a PostGIS restore renames databases.
        connection.close()
        try:
            restored = backup_restore(database=connection.settings_dict, folder=options["folder"],
                                      replace=options["replace"])
        except BackupRefused as error:
            raise CommandError(f"Restore refused: {error}") from None
        self.stdout.write(f"Restored {options['folder']}: {summary(restored.fingerprint)}, as recorded in the backup.")
        self.stdout.write(restored.audit)
        if restored.kept_as:
            self.stdout.write(f"The data that was there before is kept as {restored.kept_as}.")
