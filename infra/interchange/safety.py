"""Checks an imported file passes before any parser or GDAL sees it.

Refused, each with its own message: files too big or empty; an extension we do not read (a
.vrt above all); content that is not what the extension says; zip bombs (too many members,
too much when unpacked, too high a ratio), zip members with absolute, parent (..), backslash or
link paths; XML with a DOCTYPE or entity declarations (external entities, "billion laughs");
GDAL virtual-file tricks anywhere in the bytes or member names (/vsicurl/, /vsizip/, … and VRT
XML). Nothing is written before these checks pass.
"""
from __future__ import annotations

import re
import sqlite3
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["KINDS", "MAX_UPLOAD_BYTES", "Checked", "file_check", "zip_members_check"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 50

# extension → kind
KINDS = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg",
         ".zip": "shapefile", ".kml": "kml"}
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
# The list of texts our own shapefile export cut (exports.gis.cut_texts), at the zip's root: read by people,
# never by the import, so that an exported zip imports again as it is.
SHAPEFILE_CUT_LIST = "truncated.csv"
_VSI = re.compile(rb"/vsi[a-z0-9_]*", re.IGNORECASE)
_VRT = re.compile(rb"<\s*OGRVRTDataSource", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Checked:
    path: Path
    kind: str
    name: str


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="refused")


def _mismatch(name: str) -> ValidationError:
    return _refuse(_("The file's content does not match its name (%(name)s).") % {"name": name})


def _scan(data: bytes, where: str) -> None:
    if _VRT.search(data):
        raise _refuse(_("%(where)s holds a GDAL virtual dataset (VRT); such files are not accepted.") % {"where": where})
    if _VSI.search(data):
        raise _refuse(_("%(where)s refers to a GDAL virtual file system path (/vsi…); such files are not accepted.")
                      % {"where": where})


def _xml_check(data: bytes, where: str) -> None:
    if _DOCTYPE.search(data):
        raise _refuse(_("%(where)s declares a DOCTYPE or entities (external entities, “billion laughs”); "
                        "such XML is not accepted.") % {"where": where})


def zip_members_check(archive: zipfile.ZipFile, *, where: str) -> list[zipfile.ZipInfo]:
    """Raise ValidationError for a zip bomb or a member path that could leave its folder; return the members."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _refuse(_("%(where)s has %(count)d files; at most %(max)d are accepted.")
                      % {"where": where, "count": len(members), "max": MAX_MEMBERS})
    total = 0
    for member in members:
        name = member.filename
        path = PurePosixPath(name)
        if (name.startswith(("/", "\\")) or "\\" in name or re.match(r"^[A-Za-z]:", name) or ".." in path.parts
                or _VSI.search(name.encode("utf-8", "replace"))):
            raise _refuse(_("%(where)s holds a file with an unsafe path (%(name)s).") % {"where": where, "name": name[:80]})
        if stat.S_ISLNK(member.external_attr >> 16):
            raise _refuse(_("%(where)s holds a link (%(name)s); links are not accepted.") % {"where": where, "name": name[:80]})
        if member.flag_bits & 0x1:
            raise _refuse(_("%(where)s is encrypted.") % {"where": where})
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > MAX_UNPACKED_BYTES or (member.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            raise _refuse(_("%(where)s unpacks to too much data (a “zip bomb”?); at most %(max)d MB and a ratio of "
                            "%(ratio)d:1 are accepted.") % {"where": where, "max": MAX_UNPACKED_BYTES // 2**20,
                                                           "ratio": MAX_RATIO})
    return members


def _zip_check(path: Path, name: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _mismatch(name) from None
    zip_members_check(archive, where=name)
    return archive


def _xlsx_check(path: Path, name: str) -> None:
    with _zip_check(path, name) as archive:
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise _mismatch(name)
        for member in archive.infolist():
            data = archive.read(member)
            _scan(data, name)
            if member.filename.endswith((".xml", ".rels", ".vml")):
                _xml_check(data, name)


def _shapefile_zip_check(path: Path, name: str) -> None:
    with _zip_check(path, name) as archive:
        stems: dict[str, set[str]] = {}
        for member in archive.infolist():
            if member.is_dir():
                continue
            suffix = PurePosixPath(member.filename).suffix.lower()
            if member.filename == SHAPEFILE_CUT_LIST:
                _scan(archive.read(member), f"{name}/{member.filename}")
                continue
            if suffix not in SHAPEFILE_PARTS:
                raise _refuse(_("%(name)s holds %(member)s; a shapefile zip may hold only .shp, .shx, .dbf, .prj and "
                                ".cpg files.") % {"name": name, "member": member.filename[:80]})
            _scan(archive.read(member), f"{name}/{member.filename}")
            stems.setdefault(str(PurePosixPath(member.filename).with_suffix("")), set()).add(suffix)
        complete = [stem for stem, parts in stems.items() if {".shp", ".shx", ".dbf"} <= parts]
        if not complete:
            raise _refuse(_("%(name)s holds no complete shapefile (.shp, .shx and .dbf).") % {"name": name})


def _gpkg_check(path: Path, name: str, head: bytes) -> None:
    # SQLite header, then the GeoPackage application id at byte 68 ("GPKG", or "GP10"/"GP11" for 1.0/1.1).
    if not head.startswith(b"SQLite format 3\x00") or head[68:72] not in (b"GPKG", b"GP10", b"GP11"):
        raise _mismatch(name)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            definitions = [row[0] or "" for row in db.execute("SELECT sql FROM sqlite_master")]
    except sqlite3.DatabaseError:
        raise _mismatch(name) from None
    for sql in definitions:
        if "load_extension" in sql.lower():
            raise _refuse(_("%(name)s defines SQL that loads extensions; such files are not accepted.") % {"name": name})
        _scan(sql.encode("utf-8", "replace"), name)


def file_check(path: Path, *, name: str) -> Checked:
    """Check an uploaded or given file; return its kind, or raise ValidationError saying why it is refused."""
    display = PurePosixPath(name.replace("\\", "/")).name[:120] or "?"
    suffix = PurePosixPath(display).suffix.lower()
    if suffix == ".vrt":
        raise _refuse(_("GDAL virtual datasets (.vrt) are not accepted."))
    kind = KINDS.get(suffix)
    if kind is None:
        raise _refuse(_("Files of type %(suffix)s are not accepted; send CSV, XLSX, GeoJSON, GeoPackage, a zipped "
                        "Shapefile or KML.") % {"suffix": suffix or "?"})
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise _refuse(_("The file is larger than %(limit)d MB.") % {"limit": MAX_UPLOAD_BYTES // 2**20})
    if size == 0:
        raise _refuse(_("The file is empty."))
    with path.open("rb") as handle:
        head = handle.read(100)
    if kind in ("xlsx", "shapefile"):
        if not head.startswith(b"PK\x03\x04"):
            raise _mismatch(display)
        (_xlsx_check if kind == "xlsx" else _shapefile_zip_check)(path, display)
        return Checked(path=path, kind=kind, name=display)
    if kind == "gpkg":
        _gpkg_check(path, display, head)
        _scan(path.read_bytes(), display)
        return Checked(path=path, kind=kind, name=display)
    data = path.read_bytes()
    text = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if b"\x00" in text or text.startswith((b"PK\x03\x04", b"SQLite format")):
        raise _mismatch(display)
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(_("%(name)s is not UTF-8 text; save it as UTF-8.") % {"name": display}) from None
    first = text.lstrip()[:1]
    if kind == "geojson" and first != b"{":
        raise _mismatch(display)
    if kind == "kml":
        if first != b"<":
            raise _mismatch(display)
        _xml_check(text, display)
    if kind == "csv" and first in (b"{", b"<"):
        raise _mismatch(display)
    _scan(text, display)
    return Checked(path=path, kind=kind, name=display)
