# The two commands the README promises: `make run` and `make test`.
# Everything runs in .venv, which scripts/setup.sh builds (quickly skipped when up to date).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY := .venv/bin/python
PYTEST := $(PY) -m pytest -p no:cacheprovider
PYTEST_ARGS ?=
# Expanded by the shell, so TEST_POSTGIS_URL can come from the environment or the command line.
POSTGIS_URL := $${TEST_POSTGIS_URL:-postgis://postgres@127.0.0.1:5432/infra_test}
SPATIALITE_URL := spatialite:///var/test.sqlite3

.PHONY: help run test test-postgis test-spatialite setup-run setup-test bench lint messages clean check-reliability backup restore

help:
	@echo "make run              serve the demo on http://127.0.0.1:$${PORT:-8000}/ (SpatiaLite, var/infra.sqlite3)"
	@echo "make test             the whole suite on PostGIS, then on SpatiaLite (PYTEST_ARGS=... to pass options)"
	@echo "make test-postgis     the suite on PostGIS only (TEST_POSTGIS_URL overrides the database)"
	@echo "make test-spatialite  the suite on SpatiaLite only"
	@echo "make backup           back up the database (DATABASE_URL; default var/infra.sqlite3) into var/backups/"
	@echo "make restore BACKUP=var/backups/<folder>  restore into DATABASE_URL's database, which must be new or empty"
	@echo "                      (REPLACE=1: stop the server first; the old data is kept under another name)"
	@echo "make check-reliability  the reliability battery, fast and slow parts (PostGIS; TEST_POSTGIS_URL overrides)"
	@echo "make bench | lint | messages | clean"

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

# Local use: debug pages and runserver's static files, unless the caller chose otherwise.
run: export DEBUG ?= 1
run: setup-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@# Connectivity is derived data: refresh it so the map and /connectivity/ show the demo's indicators.
	$(PY) manage.py connectivity --keep 3 -v0
	@echo
	@echo "Serving http://127.0.0.1:$${PORT:-8000}/  (Ctrl-C to stop)"
	@echo
	$(PY) manage.py runserver 127.0.0.1:$${PORT:-8000}

# The browser tests drive Debian's chromium (Playwright's own download is not needed), and
# Playwright's sync API runs an event loop that Django would otherwise refuse to touch the ORM from.
test test-postgis test-spatialite: export PLAYWRIGHT_CHROMIUM ?= /usr/bin/chromium
test test-postgis test-spatialite: export DJANGO_ALLOW_ASYNC_UNSAFE ?= true

# Both passes always run, so one database's failure does not hide the other's result.
test: setup-test
	@pg=failed; sl=failed; \
	if DATABASE_URL="$(POSTGIS_URL)" scripts/postgis.sh && DATABASE_URL="$(POSTGIS_URL)" $(PYTEST) $(PYTEST_ARGS); then pg=passed; fi; \
	if DATABASE_URL="$(SPATIALITE_URL)" $(PYTEST) $(PYTEST_ARGS); then sl=passed; fi; \
	echo; echo "PostGIS: $$pg / SpatiaLite: $$sl"; \
	[[ $$pg == passed && $$sl == passed ]]

test-postgis: setup-test
	@DATABASE_URL="$(POSTGIS_URL)" scripts/postgis.sh
	DATABASE_URL="$(POSTGIS_URL)" $(PYTEST) $(PYTEST_ARGS)

test-spatialite: setup-test
	DATABASE_URL="$(SPATIALITE_URL)" $(PYTEST) $(PYTEST_ARGS)

# The whole reliability battery (fast and slow parts) on PostGIS; figures in var/reliability-figures.txt.
check-reliability: export DJANGO_ALLOW_ASYNC_UNSAFE ?= true
check-reliability: setup-test
	@DATABASE_URL="$(POSTGIS_URL)" scripts/postgis.sh
	RELIABILITY=full DATABASE_URL="$(POSTGIS_URL)" $(PYTEST) tests/reliability $(PYTEST_ARGS)

# Backups: pg_dump -Fc (PostGIS) or an SQLite online-backup copy, with checksum and fingerprint; a restore
# goes into a new or empty database and is checked before it takes the database's name (README, Backups).
backup: setup-run
	@scripts/backup.sh backup

restore: setup-run
	@scripts/backup.sh restore $(if $(BACKUP),"$(BACKUP)") $(if $(REPLACE),--replace)

bench: setup-run
	@if [[ -f bench/run.py ]]; then $(PY) bench/run.py; else echo "No benchmarks yet (bench/run.py)."; fi

lint:
	@if [[ -x .venv/bin/ruff ]]; then .venv/bin/ruff check .; \
	else echo "ruff is not installed in .venv (.venv/bin/pip install ruff)"; fi

messages: setup-run
	$(PY) manage.py makemessages -l vi --ignore=.venv --ignore=var

# Databases only: the venv, secret key and uploads stay. SQLite's -wal/-shm/-journal files go
# with their database, since a stale one would be replayed into a new file of the same name.
clean:
	rm -f var/*.sqlite3 var/*.sqlite3-wal var/*.sqlite3-shm var/*.sqlite3-journal
