"""The connectivity API: include at "api/connectivity/"."""
from django.urls import path

from infra.network import views

app_name = "network-api"

urlpatterns = [
    path("", views.ConnectivityView.as_view(), name="summary"),
    path("villages/", views.VillagePathsView.as_view(), name="villages"),
]
