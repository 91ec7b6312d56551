"""GDAL's OGC API – Features driver reads /ogc/ from a live server: the collections and counts the database holds."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from gis.models import AdminUnit, BaseRoad, Village
from infra.works.choices import PUBLIC_STAGES
from infra.works.models import Work

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")


def ogrinfo(*args: str) -> str:
    done = subprocess.run(["ogrinfo", "-ro", "-so", *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_the_collections(live_server, register):
    listing = ogrinfo(f"OAPIF:{live_server.url}/ogc")
    names = re.findall(r"^\d+: (\S+)", listing, flags=re.MULTILINE)
    assert names == ["works", "communes", "communes-2025-06-30", "villages", "roads", "village-links"]


def test_ogrinfo_counts_match_the_database(live_server, register):
    expected = {
        "works": Work.objects.filter(stage__in=PUBLIC_STAGES).count(),  # the public's view: no proposed works
        "communes": AdminUnit.objects.filter(level="commune", valid_to__isnull=True).count(),
        "villages": Village.objects.count(),
        "roads": BaseRoad.objects.count(),
    }
    assert expected["works"] == 5 and expected["communes"] > 30
    for layer, count in expected.items():
        summary = ogrinfo("-al", f"OAPIF:{live_server.url}/ogc", layer)
        found = re.search(r"^Feature Count: (\d+)", summary, flags=re.MULTILINE)
        assert found and int(found[1]) == count, (layer, summary[:500])
    works = ogrinfo("-al", f"OAPIF:{live_server.url}/ogc", "works")
    assert "internal_notes" not in works and re.search(r"^category: String", works, flags=re.MULTILINE)


def test_ogrinfo_filters_by_box_and_attribute_on_the_server(live_server, register):
    def count(*args: str) -> int:
        summary = ogrinfo("-al", *args, f"OAPIF:{live_server.url}/ogc", "works")
        assert "ERROR" not in summary
        return int(re.search(r"^Feature Count: (\d+)", summary, flags=re.MULTILINE)[1])

    assert count("-spat", "103.3", "22.5", "103.4", "22.6") == 3
    assert count("-where", "category='road'") == 1
    assert count("-where", "stage='proposed'") == 0  # the public never sees proposed works
