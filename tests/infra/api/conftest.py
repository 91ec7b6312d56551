import pytest

from tests.infra.api.register import build_register


@pytest.fixture
def register(reference):
    return build_register()
