"""Read /ogc/ the way QGIS does, with QGIS's own OGC API – Features provider; print what it found as JSON.

    /usr/bin/python3 tests/infra/ogc/qgis_reader.py http://host:port/ogc works communes ...

Run by tests/infra/ogc/test_qgis.py in Debian's Python, where python3-qgis lives (not in the
project's virtualenv). Headless: Qt's offscreen platform, no display needed.
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsFeatureRequest, QgsRectangle, QgsVectorLayer  # noqa: E402

BOX = (103.3, 22.5, 103.4, 22.6)


def layer(base: str, name: str) -> QgsVectorLayer:
    return QgsVectorLayer(f"url='{base}' typename='{name}' pageSize='2'", name, "OAPIF")


def main() -> None:
    base, names = sys.argv[1], sys.argv[2:]
    app = QgsApplication([], False)
    app.initQgis()
    found = {}
    for name in names:
        read = layer(base, name)
        if not read.isValid():  # (read.error() would crash PyQGIS 3.22 here)
            found[name] = {"valid": False}
            continue
        features = list(read.getFeatures())
        found[name] = {
            "valid": True,
            "count": len(features),
            "ids": sorted(int(f.id()) for f in features),
            "fields": [field.name() for field in read.fields()],
            "crs": read.crs().authid(),
            "geometry_types": sorted({f.geometry().wkbType() for f in features if f.hasGeometry()}),
            "extent": [round(v, 6) for v in (read.extent().xMinimum(), read.extent().yMinimum(),
                                             read.extent().xMaximum(), read.extent().yMaximum())],
        }
    if "works" in names:
        read = layer(base, "works")
        request = QgsFeatureRequest().setFilterRect(QgsRectangle(*BOX))
        found["works_in_box"] = sorted(str(f["code"]) for f in read.getFeatures(request))
        found["works_codes"] = sorted(str(f["code"]) for f in read.getFeatures())
        del read
    print(json.dumps(found, ensure_ascii=False))
    app.exitQgis()


if __name__ == "__main__":
    main()
