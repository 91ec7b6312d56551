"""manage.py db_fingerprint [--json]: row counts, per-table hashes and the audit-chain head."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db import connection

from infra.operations.fingerprint import summary
from infra.operations.services import database_fingerprint


class Command(BaseCommand):
    help = ("Print the database's fingerprint: rows and a SHA-256 per table (in primary-key order) and the head of "
            "the audit chain. A backup records it; a restore checks it.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the whole fingerprint as JSON")

    def handle(self, *args, **options):
        printed = database_fingerprint(connection.settings_dict)
        if options["json"]:
            self.stdout.write(json.dumps(printed, indent=2, sort_keys=True))
            return
        for table, facts in printed["tables"].items():
            self.stdout.write(f"{table}: {facts['rows']} rows, sha256 {facts['sha256']}")
        self.stdout.write(summary(printed) + f"\ndigest {printed['digest']}")
