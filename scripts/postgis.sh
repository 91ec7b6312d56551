#!/usr/bin/env bash
# Make sure the PostGIS database named by DATABASE_URL exists and answers, for `make test`.
#
#   DATABASE_URL  postgis://user[:password]@host[:port]/db
#                 (default postgis://postgres@127.0.0.1:5432/infra_test)
#
# For a local server (127.0.0.1 / localhost / ::1) this also installs PostgreSQL + PostGIS when
# missing (as root) and starts the cluster when it is stopped. A remote server is only checked.
# pytest-django then creates test_<db> from the same server, and Django's postgis backend runs
# CREATE EXTENSION postgis in it itself (the URL's user must be a superuser for that).
set -euo pipefail

# Package helpers (ensure_packages, is_installed, pg_major, apt_update_once) live in setup.sh.
# shellcheck source=setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

say() { printf 'postgis: %s\n' "$*"; }
die() { printf 'postgis: error: %s\n' "$*" >&2; exit 1; }

URL="${DATABASE_URL:-postgis://postgres@127.0.0.1:5432/infra_test}"

# --- Parse the URL --------------------------------------------------------------------------

urldecode() { local s="${1//+/ }"; printf '%b' "${s//%/\\x}"; }

# scheme://[user[:password]@]host[:port]/db[?options]; IPv6 hosts in brackets.
re='^(postgis|postgres|postgresql)://(([^:@/]*)(:([^@/]*))?@)?(\[[^]]+\]|[^:/?]+)(:([0-9]+))?/([^?]+)(\?.*)?$'
[[ "$URL" =~ $re ]] || die "cannot read DATABASE_URL '$URL'; expected postgis://user@host:port/db"
DB_USER="$(urldecode "${BASH_REMATCH[3]:-postgres}")"
DB_PASS="$(urldecode "${BASH_REMATCH[5]}")"
DB_HOST="${BASH_REMATCH[6]}"
DB_HOST="${DB_HOST#[}" && DB_HOST="${DB_HOST%]}"
DB_PORT="${BASH_REMATCH[8]:-5432}"
DB_NAME="$(urldecode "${BASH_REMATCH[9]}")"
[[ -n "$DB_USER" ]] || DB_USER=postgres

# libpq reads these, so psql and pg_isready below need no further arguments.
export PGHOST="$DB_HOST" PGPORT="$DB_PORT" PGUSER="$DB_USER" PGCONNECT_TIMEOUT=5
[[ -n "$DB_PASS" ]] && export PGPASSWORD="$DB_PASS"

case "$DB_HOST" in
    127.0.0.1 | localhost | ::1) LOCAL=1 ;;
    *) LOCAL=0 ;;
esac

# --- Install (local server only) ------------------------------------------------------------

FRESH=0
if [[ $LOCAL -eq 1 ]]; then
    pg_major
    # A server installed by this run comes with a brand-new cluster we may configure (below).
    if command -v dpkg-query >/dev/null 2>&1 && ! is_installed "postgresql-$PG_MAJOR"; then
        FRESH=1
    fi
    ensure_packages "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-3"
elif ! command -v psql >/dev/null 2>&1; then
    ensure_packages postgresql-client
fi

# --- Start (local server only) --------------------------------------------------------------

# cluster_on_port: "version name" of the local cluster configured for DB_PORT, if any.
cluster_on_port() {
    pg_lsclusters --no-header 2>/dev/null | awk -v port="$DB_PORT" '$3 == port { print $1, $2; exit }'
}

if ! pg_isready -q; then
    [[ $LOCAL -eq 1 ]] || die "PostgreSQL at $DB_HOST:$DB_PORT does not answer (pg_isready); start it or fix DATABASE_URL."
    command -v pg_lsclusters >/dev/null 2>&1 \
        || die "PostgreSQL on $DB_HOST:$DB_PORT does not answer and this is not a Debian-managed install; start it yourself."
    cluster="$(cluster_on_port)"
    if [[ -z "$cluster" ]]; then
        # Only create the cluster a fresh install would have had; anything else is the operator's call.
        if [[ $(id -u) -ne 0 || -e "/etc/postgresql/$PG_MAJOR/main" ]]; then
            die "no PostgreSQL cluster listens on port $DB_PORT (see pg_lsclusters); create one with: sudo pg_createcluster $PG_MAJOR <name> --port $DB_PORT --start, or fix DATABASE_URL."
        fi
        say "creating cluster $PG_MAJOR/main on port $DB_PORT"
        pg_createcluster "$PG_MAJOR" main --port "$DB_PORT" >/dev/null
        FRESH=1
        cluster="$PG_MAJOR main"
    fi
    read -r ver name <<<"$cluster"
    # Debian's pg_ctlcluster must run as root or as the cluster owner; with systemd absent (CI,
    # containers) --skip-systemctl-redirect makes it start the server directly.
    if [[ $(id -u) -ne 0 && "$(id -un)" != postgres ]]; then
        die "PostgreSQL $ver/$name is stopped; start it with: sudo pg_ctlcluster --skip-systemctl-redirect $ver $name start"
    fi
    say "starting PostgreSQL $ver/$name"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
    for _ in $(seq 30); do
        pg_isready -q && break
        sleep 1
    done
    pg_isready -q || die "PostgreSQL $ver/$name did not accept connections within 30 s; see /var/log/postgresql/postgresql-$ver-$name.log"
fi

# A cluster this script just installed or created only allows password logins over TCP, yet the
# default URL has no password. Trust local TCP connections there, as on the machines this
# project is developed on; the server listens on localhost only. Existing clusters are not touched.
if [[ $FRESH -eq 1 ]]; then
    read -r ver name <<<"$(cluster_on_port)"
    hba="/etc/postgresql/$ver/$name/pg_hba.conf"
    if [[ -f "$hba" ]] && ! grep -q '^# added by scripts/postgis.sh' "$hba"; then
        say "new cluster: trusting TCP logins from localhost in $hba"
        sed -i '1i # added by scripts/postgis.sh: trust local TCP logins (development/test cluster)\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
    fi
fi

# --- Database and extension -----------------------------------------------------------------

# Connect to the maintenance database first: it exists everywhere, and a failure here is about
# credentials, not about our database.
if ! err="$(psql -d postgres -XqtAc 'select 1' 2>&1 >/dev/null)"; then
    die "cannot log in to PostgreSQL at $DB_HOST:$DB_PORT as '$DB_USER': ${err}
Put the password in the URL (postgis://user:password@host:port/db) or allow the login in pg_hba.conf."
fi

exists="$(psql -d postgres -XqtAc "select 1 from pg_database where datname = '${DB_NAME//\'/\'\'}'")"
if [[ "$exists" != 1 ]]; then
    say "creating database $DB_NAME"
    createdb "$DB_NAME" || die "could not create database '$DB_NAME' as '$DB_USER' (needs CREATEDB or superuser)."
fi

# client_min_messages hides the "already exists, skipping" notice on every run after the first.
psql -d "$DB_NAME" -Xq -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null \
    || die "could not enable PostGIS in '$DB_NAME'; is PostGIS installed on the server (Debian: postgresql-<version>-postgis-3), and is '$DB_USER' a superuser?"

say "ready: $DB_NAME on $DB_HOST:$DB_PORT (PostGIS $(psql -d "$DB_NAME" -XqtAc 'select postgis_lib_version()'))"
