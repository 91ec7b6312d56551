#!/usr/bin/env bash
# `make backup` and `make restore`: make sure the tools are there, then run the management command.
#
#   scripts/backup.sh backup                         manage.py db_backup (into var/backups/)
#   scripts/backup.sh restore FOLDER [--replace]     manage.py db_restore FOLDER
#
#   DATABASE_URL  the database to back up or restore into (default spatialite:///var/infra.sqlite3)
#
# PostGIS backups need pg_dump and pg_restore (Debian: postgresql-client), installed here when missing.
set -euo pipefail

# Package helpers (ensure_packages) live in setup.sh; its main part only runs when it is executed.
# shellcheck source=setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

say() { printf 'backup: %s\n' "$*"; }
die() { printf 'backup: error: %s\n' "$*" >&2; exit 2; }

URL="${DATABASE_URL:-spatialite:///var/infra.sqlite3}"
if [[ "$URL" == postgis://* ]] && ! { command -v pg_dump && command -v pg_restore; } >/dev/null 2>&1; then
    ensure_packages postgresql-client
fi

cd "$ROOT"
case "${1:-}" in
    backup)
        exec "$VENV/bin/python" manage.py db_backup
        ;;
    restore)
        [[ -n "${2:-}" ]] || die "say which backup: make restore BACKUP=var/backups/<folder> (the folders are listed by ls var/backups); REPLACE=1 to restore over a database that holds data"
        exec "$VENV/bin/python" manage.py db_restore "${@:2}"
        ;;
    *)
        die "usage: scripts/backup.sh backup | restore FOLDER [--replace]"
        ;;
esac
