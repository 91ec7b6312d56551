from django.urls import path
from django.views.generic import RedirectView

from infra.api import views

app_name = "api"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="api:docs"), name="root"),
    path("works/", views.WorkListView.as_view(), name="works"),
    path("works/<int:pk>/", views.WorkDetailView.as_view(), name="work"),
    path("works/<int:pk>/stage/", views.WorkStageView.as_view(), name="work-stage"),
    path("allocations/", views.AllocationView.as_view(), name="allocations"),
    path("disbursements/", views.DisbursementView.as_view(), name="disbursements"),
    path("admin-units/", views.AdminUnitListView.as_view(), name="admin-units"),
    path("villages/", views.VillageListView.as_view(), name="villages"),
    path("village-links/", views.VillageLinkListView.as_view(), name="village-links"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.docs, name="docs"),
]
