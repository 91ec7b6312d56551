"""The project's URLs plus the connectivity ones, wired as the lead is asked to wire them in infra/urls.py."""
from django.urls import include, path

from infra.urls import urlpatterns as project

urlpatterns = [
    path("api/connectivity/", include("infra.network.urls_api")),
    path("connectivity/", include("infra.network.urls")),
    *project,
]
