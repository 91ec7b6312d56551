"""Shared fixtures: the real reference geography, loaded once per test database."""
from __future__ import annotations

import pytest
from django.core.management import call_command


def pytest_collection_modifyitems(items):
    """Run browser tests last: their live server flushes the database when they finish."""
    items.sort(key=lambda item: "tests/e2e/" in str(item.fspath))


@pytest.fixture(scope="session")
def reference_db(django_db_setup, django_db_blocker):
    """Load the real reference data (communes, plan 245) once for the whole session."""
    with django_db_blocker.unblock():
        call_command("load_reference", verbosity=0)


@pytest.fixture
def reference(reference_db, db):
    """Give a test the reference data inside its own rolled-back transaction."""
    from gis.models import AdminUnit

    # A transactional test (live server) flushes the database; load again if that happened.
    if not AdminUnit.objects.exists():
        call_command("load_reference", verbosity=0)


@pytest.fixture
def english():
    """Read messages in English (the msgids), whatever the default language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def other_session():
    """A second PostgreSQL session on the test database, in autocommit: to watch, to end or to commit
    beside the app's own connection."""
    import psycopg2
    from django.db import connection

    settings = connection.settings_dict
    session = psycopg2.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                               dbname=settings["NAME"])
    session.autocommit = True
    yield session
    session.close()
