#!/usr/bin/env bash
# Prepare this checkout to run (`scripts/setup.sh run`) or to be tested (`scripts/setup.sh test`):
# system packages, a .venv built from a Python that can load SpatiaLite, pinned requirements,
# compiled translations.
#
# Idempotent and quick when nothing changed: every step first checks whether it has work to do,
# because `make run` calls this on every start.
#
# Environment:
#   PYTHON   interpreter to try first (must be 3.11-3.13 and able to load mod_spatialite)
#
# scripts/postgis.sh sources this file for its package helpers; the main part only runs when
# the file is executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- Debian packages ------------------------------------------------------------------------

is_installed() {
    # dpkg prints nothing (and fails) for unknown packages, so compare the whole status string.
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

APT_UPDATED=0
apt_update_once() {
    # A fresh machine (or container) may have no package lists at all; refresh them once per run,
    # and only when something actually has to be installed.
    if [[ $APT_UPDATED -eq 0 ]]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
}

# ensure_packages [--lean] PKG... : install whichever of PKG are missing (root), or tell the user how (not root).
# --lean: without recommended packages (QGIS's recommendations alone are some sixty more).
ensure_packages() {
    local lean=()
    if [[ "${1:-}" == --lean ]]; then
        lean=(--no-install-recommends)
        shift
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        # Not Debian/Ubuntu: we cannot check, so carry on and let the Python check below explain.
        say "not a Debian-based system; make sure these are installed: $*"
        return 0
    fi
    local missing=() pkg
    for pkg in "$@"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        printf 'setup: error: missing system packages: %s\n' "${missing[*]}" >&2
        printf 'Install them with:\n  sudo apt-get update && sudo apt-get install -y %s\nthen run this again.\n' \
            "${missing[*]}" >&2
        exit 1
    fi
    apt_update_once
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${lean[@]}" "${missing[@]}"
}

# pg_major: set PG_MAJOR to the PostgreSQL major version to use (the installed cluster's, else
# Debian's default). Sets a variable rather than printing, so apt_update_once is remembered.
PG_MAJOR=""
pg_major() {
    PG_MAJOR="$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1 || true)"
    if [[ -z "$PG_MAJOR" ]] && command -v apt-cache >/dev/null 2>&1; then
        # Nothing installed yet: ask apt which server the "postgresql" metapackage pulls in. The
        # package lists may be empty on a fresh machine, and we are about to install anyway.
        if [[ $(id -u) -eq 0 ]]; then apt_update_once; fi
        PG_MAJOR="$(apt-cache depends postgresql 2>/dev/null | sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1)"
    fi
    PG_MAJOR="${PG_MAJOR:-15}"
}

# --- Python ---------------------------------------------------------------------------------

# Exit codes of the probe, so the failure message can say why each candidate was refused.
# Debian's python3 without python3-venv has venv but not ensurepip, hence checking both.
PROBE='
import sys
if not ((3, 11) <= sys.version_info[:2] <= (3, 13)):
    sys.exit(10)
import sqlite3
con = sqlite3.connect(":memory:")
if not hasattr(con, "enable_load_extension"):
    sys.exit(11)
con.enable_load_extension(True)
try:
    con.load_extension("mod_spatialite")
except Exception:
    sys.exit(12)
try:
    import venv, ensurepip
except ImportError:
    sys.exit(13)
'

probe_reason() {
    case "$1" in
        10) echo "not Python 3.11-3.13" ;;
        11) echo "its sqlite3 cannot load extensions (built without enable_load_extension)" ;;
        12) echo "cannot load mod_spatialite (is libsqlite3-mod-spatialite installed?)" ;;
        13) echo "lacks venv/ensurepip (on Debian: python3-venv)" ;;
        127) echo "not found" ;;
        *) echo "failed to run (exit $1)" ;;
    esac
}

# pick_python: set PICKED to the first usable interpreter; reasons for refusals go to REFUSED.
# (Globals rather than output, because $(...) would run it in a subshell and lose them.)
PICKED=""
REFUSED=()
NEEDS_VENV_PKG=0
pick_python() {
    local candidates=() cand path rc
    [[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
    candidates+=(/usr/bin/python3.11 /usr/bin/python3 python3)
    PICKED=""
    REFUSED=()
    for cand in "${candidates[@]}"; do
        path="$(command -v "$cand" 2>/dev/null || true)"
        if [[ -z "$path" ]]; then
            REFUSED+=("$cand: $(probe_reason 127)")
            continue
        fi
        rc=0
        "$path" -c "$PROBE" >/dev/null 2>&1 || rc=$?
        if [[ $rc -eq 0 ]]; then
            PICKED="$path"
            return 0
        fi
        [[ $rc -eq 13 && "$path" == /usr/bin/* ]] && NEEDS_VENV_PKG=1
        [[ "$path" == "$cand" ]] || cand="$cand ($path)"
        REFUSED+=("$cand: $(probe_reason "$rc")")
    done
    return 1
}

choose_python() {
    pick_python && return 0
    # Debian ships venv support (ensurepip) separately, and a minimal system may lack python3
    # altogether; both are fixable here, so fix and look again before giving up.
    if command -v apt-get >/dev/null 2>&1 && { [[ $NEEDS_VENV_PKG -eq 1 ]] || [[ ! -x /usr/bin/python3 ]]; }; then
        ensure_packages python3 python3-venv
        pick_python && return 0
    fi
    {
        echo "setup: error: no Python 3.11-3.13 with SQLite extension loading found."
        echo "SpatiaLite (the default database) needs a Python whose sqlite3 module can load"
        echo "mod_spatialite, plus venv support to build .venv. Candidates tried:"
        printf '  - %s\n' "${REFUSED[@]}"
        echo "On Debian/Ubuntu: apt-get install python3 python3-venv libsqlite3-mod-spatialite"
        echo "(pyenv builds usually lack extension loading; Debian's /usr/bin/python3 has it),"
        echo "or point PYTHON=/path/to/python3 at a suitable interpreter."
    } >&2
    return 1
}

# venv_matches PY: does .venv exist, work, and come from the interpreter PY?
venv_matches() {
    [[ -x "$VENV/bin/python" ]] || return 1
    local want have
    # Compare resolved base executables and versions: /usr/bin/python3 and /usr/bin/python3.11
    # are the same interpreter, a pyenv 3.11 is not.
    want="$("$1" -c 'import os,sys; print(os.path.realpath(sys.executable), sys.version_info[:2])')"
    have="$("$VENV/bin/python" -c 'import os,sys; print(os.path.realpath(sys._base_executable), sys.version_info[:2])' 2>/dev/null)" || return 1
    [[ "$want" == "$have" ]]
}

ensure_venv() {
    local py="$1"
    if venv_matches "$py"; then
        return 0
    fi
    if [[ -e "$VENV" ]]; then
        say "recreating .venv (it was built by another interpreter or is broken)"
        rm -rf "$VENV"
    else
        say "creating .venv"
    fi
    "$py" -m venv "$VENV"
}

ensure_requirements() {
    local stamp="$VENV/.requirements.sha256" sum
    # Both files, since requirements-dev.txt pulls in requirements.txt with -r.
    sum="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
        return 0
    fi
    say "installing Python requirements (first time takes a few minutes)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$ROOT/requirements-dev.txt"
    # Written only after a successful install, so an interrupted install is retried next time.
    echo "$sum" >"$stamp"
}

# --- Translations ---------------------------------------------------------------------------

ensure_messages() {
    [[ -f "$ROOT/manage.py" && -d "$ROOT/locale" ]] || return 0
    local po stale=0
    while IFS= read -r -d '' po; do
        if [[ ! -f "${po%.po}.mo" || "$po" -nt "${po%.po}.mo" ]]; then
            stale=1
            break
        fi
    done < <(find "$ROOT/locale" -name '*.po' -print0)
    [[ $stale -eq 1 ]] || return 0
    say "compiling translations"
    (cd "$ROOT" && "$VENV/bin/python" manage.py compilemessages --ignore=.venv >/dev/null)
}

# --- Main -----------------------------------------------------------------------------------

main() {
    local mode="${1:-run}"
    case "$mode" in
        run | test) ;;
        *) die "usage: scripts/setup.sh [run|test]" ;;
    esac

    local pkgs=(gdal-bin libsqlite3-mod-spatialite gettext binutils libproj-dev)
    if [[ "$mode" == test ]]; then
        # Tests run on PostGIS too, and drive Debian's chromium through Playwright.
        pg_major
        pkgs+=("postgresql-$PG_MAJOR-postgis-3" chromium)
    fi
    ensure_packages "${pkgs[@]}"
    if [[ "$mode" == test ]]; then
        # QGIS's own OGC API – Features client reads /ogc/ in the tests (Debian's python3, not the venv).
        ensure_packages --lean python3-qgis qgis-providers
    fi

    choose_python || exit 1
    local py="$PICKED"
    say "using $py ($("$py" -c 'import sys; print(sys.version.split()[0])'))"

    ensure_venv "$py"
    ensure_requirements
    # The SQLite databases, secret key and demo login list live here.
    mkdir -p "$ROOT/var"
    ensure_messages
    say "ready ($mode)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
