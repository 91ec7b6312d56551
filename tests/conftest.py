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
