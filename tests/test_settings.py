"""Settings come from the environment, and bad values read as one clear sentence."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from infra.dburl import parse_database_url

ROOT = Path(__file__).resolve().parent.parent


def test_spatialite_url_relative_to_project():
    config = parse_database_url("spatialite:///var/x.sqlite3", base_dir=Path("/srv/app"))
    assert config["ENGINE"].endswith("spatialite")
    assert config["NAME"] == "/srv/app/var/x.sqlite3"


def test_spatialite_url_absolute():
    assert parse_database_url("spatialite:////data/x.sqlite3", base_dir=Path("/srv"))["NAME"] == "/data/x.sqlite3"


def test_postgis_url_parts():
    config = parse_database_url("postgis://u:p%40ss@db.local:5433/infra?sslmode=require", base_dir=ROOT)
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == ("u", "p@ss", "db.local", "5433", "infra")
    assert config["OPTIONS"]["sslmode"] == "require"


@pytest.mark.parametrize("url", ["mysql://x/y", "postgis://", "postgis://host", "spatialite://", "postgis://h:notaport/db", ""])
def test_bad_database_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url, base_dir=ROOT)


def test_bad_database_url_gives_one_sentence_not_a_traceback():
    env = {**os.environ, "DATABASE_URL": "mysql://root@localhost/infra"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: DATABASE_URL must start with")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("variable", ["TILE_CACHE_MB", "REPLICA_MAX_LAG_SECONDS"])
@pytest.mark.parametrize("value", ["lots", "-1", "nan", "1e9"])
def test_a_bad_number_setting_gives_one_sentence(variable, value):
    env = {**os.environ, variable: value}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith(f"error: {variable} must")


def test_a_bad_replica_url_names_its_own_setting():
    env = {**os.environ, "DATABASE_URL": "postgis://postgres@127.0.0.1:5432/infra", "DATABASE_REPLICA_URL": "mysql://x/y"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: DATABASE_REPLICA_URL must start with")


def _python_without_extension_loading() -> str | None:
    """Find an interpreter like pyenv's default build, whose sqlite3 cannot load extensions."""
    import shutil

    for candidate in {shutil.which("python3"), shutil.which("python3.11"), str(Path.home() / ".pyenv/shims/python3")}:
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run([candidate, "-c", "import sys, sqlite3; print(sys.version_info[:2] == (3, 11) and "
                                "not hasattr(sqlite3.Connection, 'enable_load_extension'))"], capture_output=True, text=True)
        if probe.stdout.strip() == "True":
            return candidate
    return None


def test_python_without_extension_loading_gives_one_sentence():
    python = _python_without_extension_loading()
    if python is None:
        pytest.skip("no Python 3.11 without SQLite extension loading on this machine")
    # Borrow the virtualenv's packages so that only the missing sqlite3 feature differs.
    site = next(Path(sys.prefix).glob("lib/python3.*/site-packages"))
    env = {**os.environ, "DATABASE_URL": "spatialite:///var/shim.sqlite3", "PYTHONPATH": str(site)}
    result = subprocess.run([python, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot load extensions" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_production_settings_pass_check_deploy():
    # DJANGO_ALLOW_ASYNC_UNSAFE (set for the browser tests) is itself a deploy warning: leave it out.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "infra.settings_production", "SECRET_KEY": "x" * 60 + "-not-a-real-secret-Q9",
                "ALLOWED_HOSTS": "works.example.vn"})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "infra.settings_production"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "SECRET_KEY must be set" in result.stderr


SERVE_ONE_STATIC_FILE = r"""
import django, io, re, sys
django.setup()
from django.templatetags.static import static
from infra.wsgi import application
url = static(sys.argv[1])
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": url, "QUERY_STRING": "", "SCRIPT_NAME": "", "SERVER_NAME": "works.example.vn",
           "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "works.example.vn",
           "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
answer = []
body = application(environ, lambda status, headers, *_: answer.append((status, dict(headers))))
size = sum(len(chunk) for chunk in body)
from django.template import engines
leaflet = engines["django"].from_string("{% load leaflet_tags %}{% leaflet_css %}{% leaflet_js %}").render({})
print(" ".join(sorted(set(re.findall(r"/static/[\w./-]+", leaflet)))))
print(url, answer[0][0], answer[0][1].get("Cache-Control"), size, sep="|")
"""


def test_production_static_files_carry_a_hash_and_browsers_keep_them_a_year(tmp_path):
    # collectstatic names each file after its content (the Dockerfile runs it); every file a template asks for is
    # in the manifest (a missing one would fail the page), and WhiteNoise serves it for browsers to keep.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "infra.settings_production", "SECRET_KEY": "x" * 60 + "-not-a-real-secret-Q9",
                "ALLOWED_HOSTS": "works.example.vn", "STATIC_ROOT": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    asked = {m.group(1) for folder in ("templates", "infra") for page in (ROOT / folder).rglob("*.html")
             for m in re.finditer(r"""\{% static ['"]([^'"]+)['"]""", page.read_text())}
    assert "js/home-map.js" in asked and not asked - manifest.keys(), asked - manifest.keys()
    result = subprocess.run([sys.executable, "-c", SERVE_ONE_STATIC_FILE, "js/home-map.js"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    *_, leaflet, served = result.stdout.strip().splitlines()
    # The map's own Leaflet (django-leaflet's tags ask the storage too): under their hashed names.
    hashed = {f"/static/{name}" for name in manifest.values()}
    assert "leaflet" in leaflet and set(leaflet.split()) <= hashed, leaflet
    url, status, cache, size = served.split("|")
    assert url == f"/static/{manifest['js/home-map.js']}" and url != "/static/js/home-map.js"
    assert status == "200 OK" and int(size) == (tmp_path / manifest["js/home-map.js"]).stat().st_size
    assert "immutable" in cache and "max-age=315360000" in cache
