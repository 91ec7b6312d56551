"""Shared pieces of the authorisation matrix: roles, what each must not see, and body scanning."""
from __future__ import annotations

import io
import json
import zipfile

from django.contrib.auth.models import Permission

from gis.models import AdminUnit
from infra.accounts.models import Role
from tests.factories import user_with_role

# Private facts of each commune's works in tests/infra/api/register.py (proposed works and internal notes).
PT_PRIVATE = ("Giếng khoan bản Nà Giàng", "ghi chú nội bộ P", "ghi chú nội bộ A")   # Phong Thổ (03549)
SLL_PRIVATE = ("Lò đốt rác bản Tả Chải", "ghi chú nội bộ S")                       # Sì Lở Lầu (03562)

ROLES = ("public", "board", "officer-pt", "officer-sll", "planner", "auditor")
HIDDEN = {
    "public": PT_PRIVATE + SLL_PRIVATE,
    "officer-pt": SLL_PRIVATE,
    "officer-sll": PT_PRIVATE,
    "board": (), "planner": (), "auditor": (),
}
# The works each role must not reach at all (the proposed works outside its communes).
HIDDEN_WORKS = {
    "public": ("P-1", "P-2"), "officer-pt": ("P-2",), "officer-sll": ("P-1",),
    "board": (), "planner": (), "auditor": (),
}


def make_user(role: str, *, staff: bool = True):
    """The person for a role (None for the public). Staff with every model permission, so that
    only the access policy can refuse."""
    if role == "public":
        return None
    current = {"officer-pt": "03549", "officer-sll": "03562"}
    if role in current:
        unit = AdminUnit.objects.get(level="commune", code=current[role], valid_to=None)
        user = user_with_role(Role.COMMUNE_OFFICER, username=role, communes=[unit])
    else:
        user = user_with_role({"board": Role.BOARD, "planner": Role.PLANNER, "auditor": Role.AUDITOR}[role], username=role)
    if staff:
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.all())
    return user


def login(client, role: str):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    return user


def body_of(response) -> bytes:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:4] == b"PK\x03\x04":  # zip (XLSX, shapefiles, bundle): scan every member, bounded
        parts = [content]
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for info in archive.infolist()[:200]:
                if info.file_size < 50_000_000:
                    parts.append(archive.read(info))
        content = b"\n".join(parts)
    return content


def leaks(content: bytes, markers: tuple[str, ...]) -> list[str]:
    """The markers found in a body, in UTF-8, JSON-escaped or XML-escaped form."""
    found = []
    for marker in markers:
        forms = {marker.encode(), json.dumps(marker)[1:-1].encode(),
                 marker.encode("ascii", "xmlcharrefreplace"), marker.encode("utf-16-le")}
        if any(form in content for form in forms):
            found.append(marker)
    return found
