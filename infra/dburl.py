"""Parse DATABASE_URL into a Django DATABASES entry, with one-sentence errors."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

__all__ = ["parse_database_url"]

_ENGINES = {
    "spatialite": "django.contrib.gis.db.backends.spatialite",
    # Django's PostGIS backend with a health check that needs no round trip (infra/backends/postgis).
    "postgis": "infra.backends.postgis",
}


def parse_database_url(url: str, *, base_dir: Path, variable: str = "DATABASE_URL") -> dict:
    """Return a DATABASES entry for a spatialite:/// or postgis:// URL; errors name the setting, `variable`."""
    parts = urlsplit(url.strip())
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"{variable} must start with spatialite:/// or postgis://, got {parts.scheme or 'nothing'!r} "
            "(example: postgis://postgres@127.0.0.1:5432/infra)."
        )
    if parts.scheme == "spatialite":
        raw = unquote(parts.netloc + parts.path)
        if not raw or raw == "/":
            raise ImproperlyConfigured(f"{variable} spatialite:/// needs a file path, e.g. spatialite:///var/infra.sqlite3.")
        # spatialite:///var/x.sqlite3 is relative to the project; spatialite:////abs/x.sqlite3 is absolute.
        path = Path(raw[1:]) if raw.startswith("/") else Path(raw)
        if not path.is_absolute():
            path = base_dir / path
        return {"ENGINE": engine, "NAME": str(path)}
    name = parts.path.lstrip("/")
    if not name or not parts.hostname:
        raise ImproperlyConfigured(
            f"{variable} postgis:// needs a host and a database name, e.g. postgis://postgres@127.0.0.1:5432/infra."
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{variable} has an invalid port: {exc}.") from None
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": engine,
        "NAME": unquote(name),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(port or ""),
        "OPTIONS": options,
        # A new connection per request costs ~12 ms (docs/PERFORMANCE); keep them open.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
