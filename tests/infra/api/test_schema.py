"""The OpenAPI schema validates and describes every endpoint; the docs page renders it locally."""
from __future__ import annotations

import json

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ENDPOINTS = {
    "/api/works/": {"bbox", "commune", "category", "stage", "year", "source", "q", "limit", "offset", "zoom"},
    "/api/works/{id}/": {"id"},
    "/api/admin-units/": {"level", "on", "code", "geometry", "bbox", "zoom", "limit", "offset"},
    "/api/villages/": {"commune", "bbox", "limit", "offset"},
    "/api/village-links/": {"commune", "bbox", "limit", "offset"},
}


@pytest.fixture
def api_schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi_3(api_schema):
    validate_schema(api_schema)
    assert api_schema["openapi"].startswith("3.")


def test_schema_describes_every_endpoint_and_parameter(api_schema):
    assert set(ENDPOINTS) <= set(api_schema["paths"])
    for path, names in ENDPOINTS.items():
        operation = api_schema["paths"][path]["get"]
        assert {p["name"] for p in operation.get("parameters", [])} == names, path
        assert all(p.get("description") or p["in"] == "path" for p in operation.get("parameters", [])), path
        assert "application/geo+json" in operation["responses"]["200"]["content"], path
        assert operation.get("summary"), path
    assert "400" in api_schema["paths"]["/api/works/"]["get"]["responses"]
    assert "404" in api_schema["paths"]["/api/works/{id}/"]["get"]["responses"]


def test_schema_in_either_language_and_only_those(client):
    assert client.get("/api/schema/?lang=vi").status_code == 200
    assert client.get("/api/schema/?lang=xx").status_code == 400


def test_docs_page_lists_every_endpoint_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    for path in ENDPOINTS:
        assert path in page
    for marker in ('src="http', 'href="http', 'src="//', 'href="//'):
        assert marker not in page
    assert client.get("/api/").status_code in (301, 302)


@pytest.mark.parametrize(("language", "title", "description"), [
    ("vi", "API công trình hạ tầng Phong Thổ", "Các công trình thuộc Dự án 1"),
    ("en", "Phong Thổ infrastructure works API", "Works of the poverty-reduction programme"),
])
def test_the_docs_page_and_the_schema_are_titled_in_the_reader_s_language(client, language, title, description):
    page = client.get("/api/docs/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{title} <small>" in page
    assert description in page
    schema = json.loads(client.get(f"/api/schema/?format=json&lang={language}").content)
    assert schema["info"]["title"] == title
