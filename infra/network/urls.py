"""The connectivity page: include at "connectivity/"."""
from django.urls import path

from infra.network import views

app_name = "network"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
