"""Settings for the works register, read from the environment.

DATABASE_URL   spatialite:///var/infra.sqlite3 (default) or postgis://user:pass@host:port/db
SECRET_KEY     generated into var/secret_key for local use when unset
DEBUG          1/true/yes to enable (default off)
ALLOWED_HOSTS  comma-separated (default 127.0.0.1,localhost)
MAP_VECTOR_TILES  0 to keep the home map on GeoJSON on PostGIS too (default on: vector tiles there)
TILE_CACHE_MB  megabytes of built low-zoom tiles each process keeps (default 64; 0 keeps none)
DATABASE_REPLICA_URL  postgis://… of a streaming replica of DATABASE_URL's database: anonymous map reads
               go there (infra/replica.py; unset: everything reads the primary)
REPLICA_MAX_LAG_SECONDS  how far behind the replica may be and still answer (default 30)
"""
from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from infra import formats as _formats
from infra.dburl import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_number(name: str, default: float, *, most: float, what: str) -> float:
    """A number from the environment, from 0 to `most`; `what` says what it counts, for the error."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of {what}.") from None
    if not 0 <= value <= most:  # NaN fails this too
        raise ImproperlyConfigured(f"{name} must lie between 0 and {most:g}.")
    return value


def local_secret_key() -> str:
    """Return a per-checkout secret key, creating it on first use (never committed)."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
DEBUG = env_flag("DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.humanize",
    "leaflet",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "gis",
    "infra.accounts",
    "infra.works",
    "infra.finance",
    "infra.maintenance",
    "infra.audit",
    "infra.network",
    "infra.interchange",
    "infra.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous map reads from the replica, when DATABASE_REPLICA_URL names one (else it drops out).
    "infra.replica.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "infra.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that its process_exception sees a view's database error first: 503 instead of 500.
    "infra.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "infra.urls"
WSGI_APPLICATION = "infra.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "infra.accounts.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL", "spatialite:///var/infra.sqlite3"), base_dir=BASE_DIR
    )
}
if DATABASES["default"]["ENGINE"].endswith("spatialite"):
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        raise ImproperlyConfigured(
            "This Python's sqlite3 cannot load extensions, so SpatiaLite cannot be used: "
            "run with Debian's /usr/bin/python3 (scripts/setup.sh builds .venv from it) or use a postgis:// DATABASE_URL."
        )
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Writers take SQLite's write lock when their transaction begins, so two saves queue up and the
    # second sees the first's version (a clean "someone else saved" instead of "database is locked").
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30}
    # Tests use a file, not SQLite's shared-cache memory database, whose table locks fail at once
    # instead of waiting: concurrency and live-server tests need real locking.
    _name = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_name.with_name(f"test_{_name.stem}.sqlite3"))}
else:
    # Map queries are short; JIT and parallel workers make them slower (docs/PERFORMANCE: a 0.1° box
    # at limit 10 took 16.7 ms with parallel query, 2.8 ms without). Prepared page statements
    # (gis.layers._execute_prepared) keep one plan: their one parameter is the offset, which the
    # planner would otherwise guess at 10 % of the rows and so plan them afresh every time.
    DATABASES["default"]["OPTIONS"].setdefault(
        "options", "-c jit=off -c max_parallel_workers_per_gather=0 -c plan_cache_mode=force_generic_plan")

# A streaming replica for public map reads (infra/replica.py, docs/operator-guide.md).
REPLICA_READ_PATHS = ("/layers/", "/api/works/", "/ogc/", "/tiles/")
if os.environ.get("DATABASE_REPLICA_URL"):
    if DATABASES["default"]["ENGINE"].endswith("spatialite"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a postgis:// DATABASE_URL: SpatiaLite has no replicas.")
    _replica = parse_database_url(os.environ["DATABASE_REPLICA_URL"], base_dir=BASE_DIR, variable="DATABASE_REPLICA_URL")
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be a postgis:// URL, as DATABASE_URL is.")
    # The primary's session settings under the replica URL's own (its sslmode, say); a replica that does not
    # answer is given up on quickly (the primary answers); no target_session_attrs that a standby would fail.
    _replica["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], **_replica["OPTIONS"]}
    _replica["OPTIONS"].setdefault("connect_timeout", 3)
    _replica["OPTIONS"].pop("target_session_attrs", None)
    _replica["TEST"] = {"MIRROR": "default"}  # tests read the primary's test database through it
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["infra.replica.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env_number("REPLICA_MAX_LAG_SECONDS", 30, most=86400, what="seconds, e.g. 30")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# Dates typed into forms are read day first or as ISO in both languages, never month first (infra/formats);
# the same formats where no language is active.
FORMAT_MODULE_PATH = ["infra.formats"]
DATE_INPUT_FORMATS, DATETIME_INPUT_FORMATS = _formats.DATE_INPUT_FORMATS, _formats.DATETIME_INPUT_FORMATS
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# A stored file's address is the policy's view of it (infra.works.views.document_file): nothing serves MEDIA_ROOT.
MEDIA_URL = "/documents/file/"
# A refused form (an expired or missing CSRF token) says so in the person's language (infra.errors).
CSRF_FAILURE_VIEW = "infra.errors.csrf_failure"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# An import of more rows than this is confirmed in the background, with a page that follows it
# (infra/interchange/imports/jobs.py); smaller ones are imported within the request.
IMPORT_BACKGROUND_ROWS = int(os.environ.get("IMPORT_BACKGROUND_ROWS", "300"))
# Development serves static files straight from the app folders; production from collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# Reverting from the admin history would bypass the services (version checks, geometry rules);
# a correction is a new change, made the normal way.
SIMPLE_HISTORY_REVERT_DISABLED = True

# The map is usable with no basemap: commune boundaries are the base. Tiles are an optional extra.
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (22.62, 103.35),  # Leaflet speaks [lat, lon]
    "DEFAULT_ZOOM": 10,
    "MIN_ZOOM": 6,
    "MAX_ZOOM": 18,
    "TILES": [],
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
    # The admin's map widgets draw on the commune boundaries and villages from this server (no basemap is needed
    # or fetched), with Vietnamese drawing tools: static/js/admin-map.js.
    "PLUGINS": {"forms": {"js": ["js/admin-map.js"], "auto-include": False}},
}

# The home map draws its large layers (works, villages, roads) from vector tiles where the database can
# build them (PostGIS), and from GeoJSON on SpatiaLite. MAP_VECTOR_TILES=0 keeps GeoJSON on PostGIS too.
MAP_VECTOR_TILES = env_flag("MAP_VECTOR_TILES", default=True)

# Built tiles below zoom 12 kept per process by the database state they came from (infra/ogc/tile_cache.py).
TILE_CACHE_MB = env_number("TILE_CACHE_MB", 64, most=65536, what="megabytes, e.g. 64 (0 keeps no tiles)")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    # DRF's defaults, with a JSON parser that answers 400 to bodies nested too deeply to parse.
    "DEFAULT_PARSER_CLASSES": [
        "infra.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Phong Thổ infrastructure works API",
    "VERSION": "0.1.0",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "infra.api.schema.path_ids_positive"],
}

# Where the works may lie: Lai Châu, with a little slack for survey error at the border (degrees).
PROVINCE_CODE = "12"
AREA_TOLERANCE_DEG = 0.002

FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# GDAL 3.6 cannot stop its spatial-reference parser from reading files or the network
# (gis.W001). This system never hands user text to that parser: coordinate systems come only
# from an allow-list of integer EPSG codes (DOMAIN.md §6), so the warning is acknowledged here.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
