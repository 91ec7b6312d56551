"""Uploads are checked by content and size, stored under safe names, and keep a photo's position."""
from __future__ import annotations

import io
from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from infra.works.choices import Category
from infra.works.models import DocumentKind, WorkDocument
from infra.works.services import work_create
from infra.works.uploads import MAX_BYTES, document_attach
from tests.factories import PHONG_THO_POINT, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def work(reference):
    return work_create(user=None, code="UP-1", name="Trường mầm non", category=Category.SCHOOL,
                       geometry=Point(*PHONG_THO_POINT, srid=4326), approved_year=2022, stage_date=date(2022, 8, 1))


def _jpeg(*, gps: tuple[float, float] | None = None) -> bytes:
    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    if gps:
        lat, lon = gps
        def dms(v):
            d = int(v)
            m = int((v - d) * 60)
            s = round(((v - d) * 60 - m) * 60 * 100)
            return ((d, 1), (m, 1), (s, 100))
        from PIL.TiffImagePlugin import IFDRational
        exif[0x8825] = {1: "N", 2: tuple(IFDRational(*x) for x in dms(lat)), 3: "E", 4: tuple(IFDRational(*x) for x in dms(lon))}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_photo_is_stored_under_a_safe_name_with_its_gps_position(work):
    photo = SimpleUploadedFile("../../etc/ảnh nghiệm thu.JPG", _jpeg(gps=(22.53, 103.36)), content_type="image/jpeg")
    document = document_attach(work=work, user=UserFactory(), upload=photo, kind=DocumentKind.PHOTO, title="Nghiệm thu")
    assert document.file.name.startswith(f"works/{work.pk}/") and document.file.name.endswith(".jpg")
    assert ".." not in document.file.name and "ảnh" not in document.file.name
    assert document.location.x == pytest.approx(103.36, abs=1e-3)
    assert document.location.y == pytest.approx(22.53, abs=1e-3)


def test_pdf_and_png_are_accepted(work):
    document_attach(work=work, user=None, upload=SimpleUploadedFile("qd.pdf", PDF), kind=DocumentKind.DOCUMENT, title="QĐ")
    document_attach(work=work, user=None, upload=SimpleUploadedFile("so-do.png", _png()), kind=DocumentKind.PHOTO, title="Sơ đồ")
    assert WorkDocument.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "content", "kind", "message"),
    [
        pytest.param("anh.jpg", b"MZ\x90\x00" + b"\x00" * 200, DocumentKind.PHOTO, "does not match", id="exe-renamed-jpg"),
        pytest.param("anh.jpg", PDF, DocumentKind.PHOTO, "does not match", id="pdf-renamed-jpg"),
        pytest.param("qd.pdf", b"<html><script>alert(1)</script></html>", DocumentKind.DOCUMENT, "does not match", id="html-as-pdf"),
        pytest.param("anh.png", b"\xff\xd8\xff\xe0" + b"\x00" * 100, DocumentKind.PHOTO, "does not match", id="jpeg-magic-png-name"),
        pytest.param("anh.jpg", b"\xff\xd8\xff\xe0garbage" * 10, DocumentKind.PHOTO, "cannot be read", id="broken-jpeg"),
        pytest.param("qd.pdf", PDF.replace(b"/Catalog", b"/Catalog /OpenAction << /JS (app.alert(1)) >>"), DocumentKind.DOCUMENT,
                     "scripts", id="pdf-with-javascript"),
        pytest.param("qd.pdf", PDF, DocumentKind.PHOTO, "JPEG or PNG", id="pdf-as-photo"),
        pytest.param("script.svg", b"<svg onload=alert(1)>", DocumentKind.PHOTO, "Only PDF, JPEG and PNG", id="svg"),
        pytest.param("trong.pdf", b"", DocumentKind.DOCUMENT, "empty", id="empty"),
    ],
)
def test_disguised_or_dangerous_files_are_refused_and_nothing_is_stored(work, tmp_path, name, content, kind, message):
    with pytest.raises(ValidationError) as caught:
        document_attach(work=work, user=None, upload=SimpleUploadedFile(name, content), kind=kind, title="x")
    assert message in " ".join(caught.value.messages)
    assert not WorkDocument.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_oversized_file_is_refused(work):
    big = SimpleUploadedFile("lon.pdf", PDF + b"0" * (MAX_BYTES + 1))
    with pytest.raises(ValidationError):
        document_attach(work=work, user=None, upload=big, kind=DocumentKind.DOCUMENT, title="lớn")
    assert not WorkDocument.objects.exists()


def test_a_photos_position_is_given_to_the_works_map(client, work):
    from infra.works.services import work_stage_change

    work_stage_change(work=work, user=None, to_stage="approved", occurred_on=date(2022, 9, 1))
    photo = SimpleUploadedFile("hien-truong.jpg", _jpeg(gps=(22.531, 103.362)))
    document_attach(work=work, user=None, upload=photo, kind=DocumentKind.PHOTO, title="Hiện trường", is_public=True)
    page = client.get(f"/works/{work.pk}/").content.decode()
    data = page.split('id="work-photos"')[1].split(">", 1)[1].split("</script>")[0]
    import json

    (point,) = json.loads(data)
    assert point["title"] == "Hiện trường"
    assert point["lon"] == pytest.approx(103.362, abs=1e-3) and point["lat"] == pytest.approx(22.531, abs=1e-3)


@pytest.mark.parametrize(("title", "field_error"), [("Ảnh\x0bnghiệm thu", "U+000B"), ("T" * 201, "at most 200")])
def test_a_refused_title_leaves_neither_row_nor_file(work, tmp_path, title, field_error):
    # The file was written before the row was checked, and stayed on disk when the check refused the title.
    with pytest.raises(ValidationError) as caught:
        document_attach(work=work, user=None, upload=SimpleUploadedFile("anh.jpg", _jpeg()), kind=DocumentKind.PHOTO,
                        title=title)
    assert field_error in " ".join(caught.value.message_dict["title"])
    assert not WorkDocument.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_file_name_with_a_control_character_gives_a_clean_title(work):
    document = document_attach(work=work, user=None, upload=SimpleUploadedFile("nghiệm\x1fthu.pdf", PDF),
                               kind=DocumentKind.DOCUMENT, title=" ")
    assert document.title == "nghiệmthu"


def _reader(role, commune_code=None):
    from gis.models import AdminUnit
    from tests.factories import user_with_role

    communes = [AdminUnit.objects.get(level="commune", code=commune_code, valid_to=None)] if commune_code else []
    return user_with_role(role, communes=communes)


def test_documents_are_read_through_the_policy_not_their_storage_path(client, work):
    # Nothing served the uploads in production, and with DEBUG anyone holding a file's address read it, public
    # or not. Now /documents/<id>/ serves a public document of a work one may see, and an internal one only to
    # those who may read the work's internal facts.
    from infra.accounts.models import Role
    from infra.works.choices import Stage
    from infra.works.services import work_stage_change

    work_stage_change(work=work, user=None, to_stage=Stage.APPROVED, occurred_on=date(2022, 9, 1))
    public = document_attach(work=work, user=None, upload=SimpleUploadedFile("qd.pdf", PDF), kind=DocumentKind.DOCUMENT,
                             title="Quyết định", is_public=True)
    internal = document_attach(work=work, user=None, upload=SimpleUploadedFile("anh.jpg", _jpeg()), kind=DocumentKind.PHOTO,
                               title="Ảnh nội bộ")
    response = client.get(public.get_absolute_url())
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf" and response["Cache-Control"] == "public, max-age=3600"
    assert client.get(internal.get_absolute_url()).status_code == 404
    # a file field's own address (the admin's widgets link there) is the same view, found by the stored name
    assert internal.file.url == f"/documents/file/{internal.file.name}"
    assert client.get(internal.file.url).status_code == 404
    assert client.get(public.file.url).status_code == 200
    assert client.get("/documents/file/../../etc/passwd").status_code == 404
    commune = work.current_commune.code
    other = "03562" if commune != "03562" else "03549"
    for reader, status in ((_reader(Role.COMMUNE_OFFICER, other), 404), (_reader(Role.COMMUNE_OFFICER, commune), 200),
                           (_reader(Role.BOARD), 200), (_reader(Role.AUDITOR), 200)):
        client.force_login(reader)
        for url in (internal.get_absolute_url(), internal.file.url):
            response = client.get(url)
            assert response.status_code == status, (reader.profile.role, url)
            if status == 200:
                assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "private, no-cache"
    # the work's page links there, not to the storage
    page = client.get(f"/works/{work.pk}/").content.decode()
    assert internal.get_absolute_url() in page


def test_a_public_document_of_a_proposed_work_is_never_kept_by_shared_caches(client, work):
    # Its officers read it; the public may not: "public" caching would hand it to anyone behind the same proxy.
    from infra.accounts.models import Role

    document = document_attach(work=work, user=None, upload=SimpleUploadedFile("qd.pdf", PDF), kind=DocumentKind.DOCUMENT,
                               title="Đề xuất", is_public=True)
    client.force_login(_reader(Role.COMMUNE_OFFICER, work.current_commune.code))
    response = client.get(document.get_absolute_url())
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"


def test_a_public_document_of_a_work_not_public_is_not_served(client, work):
    document = document_attach(work=work, user=None, upload=SimpleUploadedFile("qd.pdf", PDF), kind=DocumentKind.DOCUMENT,
                               title="Đề xuất", is_public=True)
    assert client.get(document.get_absolute_url()).status_code == 404  # a proposed work is not public
    assert client.get("/documents/999999/").status_code == 404


def test_a_document_address_that_is_no_stored_name_is_a_404(client, work):
    # Text a database cannot hold (NUL) reached the query: a 500 on PostgreSQL.
    for name in ("works/1/a%00b.pdf", "works/1/abc.pdf", "etc/passwd", "works/1/" + "0" * 32 + ".exe"):
        assert client.get(f"/documents/file/{name}").status_code == 404, name
