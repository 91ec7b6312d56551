import pytest

from tests.infra.api.register import build_register


@pytest.fixture
def register(reference):
    return build_register()


@pytest.fixture
def client():
    """A client that asks for English, so that messages can be compared with their msgids."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")
