"""Error pages speak the person's language, in the site's layout, with the view's own reason when it gave one."""
from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from infra.accounts.models import Role
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def _fails(request) -> HttpResponse:
    raise RuntimeError("a fault the view did not expect")


# The project's own URLs plus one that fails, for the server error page (used through pytest.mark.urls).
urlpatterns = [path("failing/", _fails), path("", include("infra.urls"))]
handler500 = "infra.errors.server_error"


def test_a_page_not_found_is_vietnamese_with_a_way_back(client, reference):
    response = client.get("/khong-co-trang-nay/")
    page = response.content.decode()
    assert response.status_code == 404 and '<html lang="vi">' in page
    assert "Không tìm thấy trang" in page and "Không có trang nào ở địa chỉ này" in page and 'href="/"' in page
    assert "Resolver404" not in page and "tried" not in page


def test_a_views_own_reason_is_shown(client, reference):
    page = client.get("/works/999999/").content.decode()
    assert "Không có công trình này, hoặc bạn không được xem." in page


def test_a_refused_page_says_why_in_vietnamese(client, reference):
    client.force_login(user_with_role(Role.COMMUNE_OFFICER))
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "Bạn không được xem trang này" in response.content.decode()


def test_english_readers_get_english(client, reference, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    response = client.get("/khong-co-trang-nay/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_a_form_sent_without_its_token_says_what_to_do(reference):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_role(Role.BOARD))
    response = client.post("/imports/", {})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Không gửi được biểu mẫu" in page and "CSRF verification failed" not in page


@pytest.mark.urls("tests.infra.test_error_pages")
def test_a_server_error_is_a_plain_vietnamese_page(client, reference):
    client.raise_request_exception = False
    response = client.get("/failing/")
    page = response.content.decode()
    assert response.status_code == 500 and '<html lang="vi">' in page
    assert "Đã xảy ra lỗi" in page and "a fault the view did not expect" not in page
