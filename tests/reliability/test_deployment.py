"""Promise 1: deployment settings. `check --deploy` is tested in tests/test_settings.py
(test_production_settings_pass_check_deploy); here: the models and the migrations agree."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.reliability.conftest import FIGURES

ROOT = Path(__file__).resolve().parents[2]


def test_models_and_migrations_agree():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    FIGURES["deployment checks"] += 1
    assert result.returncode == 0, result.stdout + result.stderr
