"""Documents and photos: checked by content, size-limited, stored under safe names.

A file is accepted only if its bytes are what its name says (a PDF that starts like a PDF, a JPEG
or PNG that an image decoder can read), so a script or executable renamed to .jpg is refused.
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from infra.cells import REPLACEMENT, xml_text
from infra.works.models import DocumentKind, Work, WorkDocument

__all__ = ["MAX_BYTES", "MAX_PIXELS", "Checked", "document_attach", "document_check_upload", "document_path"]

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far beyond any phone photo; bigger is a decompression bomb
_EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
_CANONICAL = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}
_ALLOWED = {DocumentKind.DOCUMENT: {"pdf", "jpeg", "png"}, DocumentKind.PHOTO: {"jpeg", "png"}}
# PDF features that run code or open other things when the file is opened.
_PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction")


@dataclass(frozen=True)
class Checked:
    kind: str              # pdf, jpeg or png
    location: Point | None  # where a photo was taken, from its EXIF GPS tags


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _degrees(values, ref: str) -> float:
    d, m, s = (float(v) for v in values)
    value = d + m / 60 + s / 3600
    return -value if ref in ("S", "W") else value


def _exif_point(image: Image.Image) -> Point | None:
    # EXIF GPS: tag 0x8825 holds the GPS IFD; 1/2 latitude ref/value, 3/4 longitude ref/value.
    try:
        gps = image.getexif().get_ifd(0x8825)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError, KeyError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Point(round(lon, 7), round(lat, 7), srid=4326)  # GeoJSON order: lon, lat


def document_check_upload(*, upload: UploadedFile, kind: str) -> Checked:
    """Raise ValidationError unless the upload is an allowed, honest, reasonably sized file."""
    if upload.size is None or upload.size > MAX_BYTES:
        raise ValidationError(_("The file is larger than %(limit)d MB.") % {"limit": MAX_BYTES // (1024 * 1024)})
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    claimed = _EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    if claimed is None:
        raise ValidationError(_("Only PDF, JPEG and PNG files are accepted."))
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    actual = _sniff(data[:16])
    if actual != claimed:
        raise ValidationError(_("The file's content does not match its name (%(name)s).") % {"name": PurePath(upload.name).name})
    if actual not in _ALLOWED.get(kind, set()):
        raise ValidationError(_("A photo must be a JPEG or PNG image."))
    location = None
    if actual == "pdf":
        if any(marker in data for marker in _PDF_ACTIVE):
            raise ValidationError(_("PDF files with scripts, actions or embedded files are not accepted."))
        return Checked(kind=actual, location=None)
    try:
        # verify() must come straight after open(); the second open reads size, format and EXIF.
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(_("The image is too large (%(w)d × %(h)d pixels).") % {"w": image.width, "h": image.height})
            image_format = (image.format or "").lower()
            location = _exif_point(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(_("The image cannot be read; it may be damaged or not an image.")) from None
    if image_format != actual:
        raise ValidationError(_("The file's content does not match its name (%(name)s).") % {"name": PurePath(upload.name).name})
    return Checked(kind=actual, location=location)


def document_path(instance: WorkDocument, filename: str) -> str:
    """Store under works/<work id>/<random>.<ext>: never the uploader's name, never a path from them."""
    suffix = _CANONICAL.get(_EXTENSIONS.get(PurePath(filename).suffix.lower(), ""), ".bin")
    return f"works/{instance.work_id}/{uuid.uuid4().hex}{suffix}"


@transaction.atomic
def document_attach(*, work: Work, user, upload: UploadedFile, kind: str, title: str, is_public: bool = False) -> WorkDocument:
    """Check an upload and attach it to a work; a photo's EXIF position is kept."""
    checked = document_check_upload(upload=upload, kind=kind)
    # A title not typed is the file's name, less any control character a name may carry (nobody typed it).
    title = (title or "").strip() or xml_text(PurePath(upload.name).stem).replace(REPLACEMENT, "")[:200]
    document = WorkDocument(work=work, kind=kind, title=title, is_public=is_public, uploaded_by=user, location=checked.location)
    document.full_clean(exclude=["file"])  # the title and the rest refused before the file is written
    document.file.save(PurePath(upload.name).name, upload, save=False)
    try:
        document.full_clean()
        document._history_user = user
        document.save()
    except BaseException:
        document.file.delete(save=False)  # no file left behind without its row
        raise
    return document
