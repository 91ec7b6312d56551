"""Works for GIS: GeoJSON and KML written by hand, GeoPackage and Shapefile through ogr2ogr.

GeoPackage and Shapefile allow one geometry type per layer, so works are split by type:
`works_point`, `works_line`, `works_polygon` always (possibly empty), and `works_multipoint`,
`works_multiline`, `works_multipolygon` only when some work has a multi-part geometry. A work's
geometry is never promoted to multi, so export → import gives back the same geometry type.
ogr2ogr reads CSV files (attributes, then WKT) that this module writes to its own temporary
folder: on PostgreSQL with `COPY`, which keeps a national export close to the database's speed.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from django.db import connection
from django.utils.translation import gettext as _

from infra.cells import xml_text
from infra.interchange.columns import BOOL, DATE, FLOAT, INT, MONEY, TEXT, Column, columns_for, neutralise
from infra.interchange.exports.reference import reference_layers
from infra.interchange.exports.tabular import Progress, plain
from infra.interchange.safety import SHAPEFILE_CUT_LIST
from infra.interchange.sql import column_sql, copy_cursor, geometry_sql, iter_rows, postgis, works_select

__all__ = ["WORK_LAYERS", "geojson_write", "gpkg_write", "kml_write", "shapefile_zip_write"]

# OGC type → layer name; singles always written, multis only when present.
WORK_LAYERS = {
    "POINT": "works_point", "LINESTRING": "works_line", "POLYGON": "works_polygon",
    "MULTIPOINT": "works_multipoint", "MULTILINESTRING": "works_multiline", "MULTIPOLYGON": "works_multipolygon",
}
_SINGLE = ("POINT", "LINESTRING", "POLYGON")
_CSVT = {TEXT: "String", INT: "Integer", MONEY: "Integer64", BOOL: "Integer(Boolean)", DATE: "Date", FLOAT: "Real"}
OGR_TIMEOUT = 3600
DBF_TEXT_BYTES = 254  # dBASE holds at most this many bytes of a text (about 85-250 Vietnamese letters)
CUT_LIST = SHAPEFILE_CUT_LIST  # the import leaves it aside (infra.interchange.safety)


def gis_columns() -> tuple[Column, ...]:
    # GIS files go to other programs and portals: internal notes never go there.
    return columns_for(internal=False)


def _json_value(value: Any, kind: str) -> Any:
    value = plain(value, kind)
    return value.isoformat() if kind == DATE and value is not None else value


def geojson_write(out: IO[bytes], *, works: Any, progress: Progress | None = None) -> int:
    """Write the works as a GeoJSON FeatureCollection (WGS84, RFC 7946); return how many."""
    columns = gis_columns()
    sql, params = works_select(works, columns=columns, extra=["t.id", geometry_sql("geojson")])
    out.write(b'{"type":"FeatureCollection","name":"works","features":[\n')
    written = 0
    for row in iter_rows(sql, params):
        *values, pk, geometry = row
        properties = {c.key: _json_value(v, c.kind) for c, v in zip(columns, values, strict=True)}
        separator = ",\n" if written else ""
        text = (f'{separator}{{"type":"Feature","id":{int(pk)},"geometry":{geometry},'
                f'"properties":{json.dumps(properties, ensure_ascii=False)}}}')
        out.write(text.encode("utf-8"))
        written += 1
        if progress and written % 10_000 == 0:
            progress(written)
    out.write(b"\n]}\n")
    return written


def kml_write(out: IO[bytes], *, works: Any, progress: Progress | None = None) -> int:
    """Write the works as KML 2.2: one Placemark per work, attributes as ExtendedData; return how many."""
    columns = gis_columns()
    sql, params = works_select(works, columns=columns, extra=["t.id", geometry_sql("kml")])
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n'
              b"<Document><name>works</name>\n")
    written = 0
    for row in iter_rows(sql, params):
        *values, pk, geometry = row
        data = "".join(
            f"<Data name={quoteattr(c.key)}><value>{escape(xml_text(_kml_text(v, c.kind)))}</value></Data>"
            for c, v in zip(columns, values, strict=True) if v is not None
        )
        name = escape(xml_text(values[1] or ""))  # infra.cells: what XML forbids, shown as U+FFFD
        out.write(f'<Placemark id="work-{int(pk)}"><name>{name}</name><ExtendedData>{data}</ExtendedData>{geometry}'
                  "</Placemark>\n".encode())
        written += 1
        if progress and written % 10_000 == 0:
            progress(written)
    out.write(b"</Document>\n</kml>\n")
    return written


def _kml_text(value: Any, kind: str) -> str:
    value = _json_value(value, kind)
    if kind == BOOL:
        return "1" if value else "0"
    return str(value)


# --- GeoPackage and Shapefile through CSV + ogr2ogr ---------------------------------------------

def _write_csvt(path: Path, kinds: Sequence[str], *, geometry: bool, text_width: int | None) -> None:
    string = f"String({text_width})" if text_width else "String"
    types = [string if k == TEXT else _CSVT[k] for k in kinds] + (["WKT"] if geometry else [])
    path.with_suffix(".csvt").write_text(",".join(f'"{t}"' for t in types) + "\n", encoding="utf-8")


def _csv_cell(value: Any, kind: str) -> str:
    value = plain(value, kind)
    if value is None:
        return ""
    if kind == BOOL:
        return "1" if value else "0"
    if kind == DATE:
        return value.isoformat()
    return str(value)


def layer_csv(path: Path, names: Sequence[str], kinds: Sequence[str], rows: Iterable[Sequence[Any]], *,
              geometry: bool = True, text_width: int | None = None) -> int:
    """Write rows (attributes, then WKT when `geometry`) as a CSV with its .csvt for ogr2ogr; return how many."""
    _write_csvt(path, kinds, geometry=geometry, text_width=text_width)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(names) + (["wkt"] if geometry else []))
        for row in rows:
            cells = [_csv_cell(v, k) for v, k in zip(row, kinds, strict=False)]
            writer.writerow(cells + ([row[-1] or ""] if geometry else []))
            count += 1
    return count


def _copy_layer(path: Path, names: Sequence[str], columns: Sequence[Column], works: Any, geom_type: str, *,
                text_width: int | None) -> None:
    """PostgreSQL: write one geometry type's works with COPY (no Python per row)."""
    _write_csvt(path, [c.kind for c in columns], geometry=True, text_width=text_width)
    sql, params = works_select(works, columns=columns, extra=[geometry_sql("wkt")], csv=True, neutralise=False,
                               condition=(f"{geometry_sql('type')} = %s", [geom_type]))
    with path.open("wb") as handle, copy_cursor(handle) as raw:
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(list(names) + ["wkt"])
        handle.write(header.getvalue().encode("utf-8"))
        statement = raw.mogrify(sql, params).decode("utf-8")
        raw.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", handle)


def _types_present(works: Any) -> dict[str, int]:
    sql, params = works_select(works, columns=[], extra=[geometry_sql("type") + " AS k"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT k, count(*) FROM ({sql}) g GROUP BY k", params)
        return {kind: count for kind, count in cursor.fetchall()}


def _work_layers(folder: Path, works: Any, *, shapefile: bool) -> list[tuple[Path, str, str, int]]:
    """Write one CSV per geometry type; return (csv, layer, OGC type, count) for each layer to make."""
    columns = gis_columns()
    names = [c.shp if shapefile else c.key for c in columns]
    width = DBF_TEXT_BYTES if shapefile else None  # dBASE text holds 254 bytes at most (cut_texts)
    present = _types_present(works)
    wanted = [t for t in WORK_LAYERS if t in _SINGLE or present.get(t)]
    layers = [(folder / f"{WORK_LAYERS[t]}.csv", WORK_LAYERS[t], t, present.get(t, 0)) for t in wanted]
    if postgis():
        for path, _layer, geom_type, _count in layers:
            _copy_layer(path, names, columns, works, geom_type, text_width=width)
        return layers
    # One pass over the works, each row to the file of its type.
    handles = {t: (folder / f"{WORK_LAYERS[t]}.csv").open("w", encoding="utf-8", newline="") for t in wanted}
    try:
        writers = {t: csv.writer(h, lineterminator="\n") for t, h in handles.items()}
        kinds = [c.kind for c in columns]
        for t in wanted:
            _write_csvt(folder / f"{WORK_LAYERS[t]}.csv", kinds, geometry=True, text_width=width)
            writers[t].writerow(names + ["wkt"])
        sql, params = works_select(works, columns=columns, extra=[geometry_sql("type"), geometry_sql("wkt")])
        for row in iter_rows(sql, params):
            *values, geom_type, wkt = row
            writers[geom_type].writerow([_csv_cell(v, k) for v, k in zip(values, kinds, strict=True)] + [wkt])
    finally:
        for handle in handles.values():
            handle.close()
    return layers


def ogr2ogr(arguments: Sequence[str]) -> None:
    """Run ogr2ogr on this module's own temporary files (an argument list, never a shell)."""
    command = ["ogr2ogr", "--config", "OGR_SQLITE_SYNCHRONOUS", "OFF", "-q", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=OGR_TIMEOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(_("ogr2ogr failed: %(error)s") % {"error": result.stderr.strip()[:500]})


def _ogr_layer(dest: Path, driver: str, source: Path, layer: str, geom_type: str, *, update: bool,
               extra: Sequence[str] = ()) -> None:
    # An empty text cell is a NULL: a work without a contractor reads "(null)" in QGIS, not "" (GDAL's CSV reader
    # keeps empty text otherwise, and tells no quoted "" from no value). The import reads both as "no value".
    arguments = ["-f", driver, str(dest), str(source), "-nln", layer, "-nlt", geom_type, "-gt", "100000",
                 "-oo", "KEEP_GEOM_COLUMNS=NO", "-oo", "EMPTY_STRING_AS_NULL=YES", *extra]
    if geom_type != "NONE":
        arguments += ["-a_srs", "EPSG:4326"]
    if update:
        arguments.insert(0, "-update")
    ogr2ogr(arguments)


def gpkg_write(path: Path, *, works: Any, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write the GeoPackage (works by geometry type, communes of both vintages, villages, roads, village links).

    Return each layer's feature count.
    """
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="export-gpkg-") as temp:
        folder = Path(temp)
        layers = _work_layers(folder, works, shapefile=False)
        layers += reference_layers(folder, layer_csv=layer_csv)
        for index, (source, layer, geom_type, count) in enumerate(layers):
            if progress:
                progress(layer)
            _ogr_layer(path, "GPKG", source, layer, geom_type, update=index > 0,
                       extra=["-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid"] if geom_type != "NONE" else [])
            counts[layer] = count
    return counts


def cut_texts(works: Any) -> list[tuple[str, str, str, int]]:
    """The texts a shapefile cuts (longer than DBF_TEXT_BYTES in UTF-8): (layer, work code, field, bytes), in
    one statement over the works, whatever their number."""
    texts = [c for c in gis_columns() if c.kind == TEXT and c.sql]
    length = (lambda expression: f"octet_length({expression})") if postgis() else \
        (lambda expression: f"length(CAST({expression} AS BLOB))")
    sizes = [length(column_sql(c)) for c in texts]
    sql, params = works_select(works, columns=[], extra=["t.code", geometry_sql("type"), *sizes],
                               condition=(" OR ".join(f"{size} > {DBF_TEXT_BYTES}" for size in sizes), []))
    cut = []
    for code, geom_type, *measured in iter_rows(f"{sql} ORDER BY 1", params):
        for column, size in zip(texts, measured, strict=True):
            if size is not None and size > DBF_TEXT_BYTES:
                cut.append((WORK_LAYERS[geom_type], code, column.shp, int(size)))
    return cut


def shapefile_zip_write(out: IO[bytes], *, works: Any, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write a zip of shapefiles, one per geometry type, UTF-8 (.cpg), fields named as docs/interchange.md says,
    and CUT_LIST: every text the shapefiles hold cut (a dBASE limit), by layer, work and field, with its
    whole length, so that nobody takes a cut text for the whole one (the other formats hold it whole)."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="export-shp-") as temp:
        folder = Path(temp)
        shapes = folder / "shp"
        shapes.mkdir()
        for source, layer, geom_type, count in _work_layers(folder, works, shapefile=True):
            if progress:
                progress(layer)
            _ogr_layer(shapes / f"{layer}.shp", "ESRI Shapefile", source, layer, geom_type, update=False,
                       extra=["-lco", "ENCODING=UTF-8"])
            counts[layer] = count
        with (shapes / CUT_LIST).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["layer", "code", "field", "bytes", "bytes_kept_at_most"])
            # For people, in a spreadsheet: a code is neutralised there as in every other CSV (columns.neutralise).
            writer.writerows((layer, neutralise(code), field, size, DBF_TEXT_BYTES)
                             for layer, code, field, size in cut_texts(works))
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member in sorted(shapes.iterdir()):
                archive.write(member, arcname=member.name)
    return counts
