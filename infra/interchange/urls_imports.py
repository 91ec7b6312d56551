from django.urls import path

from infra.interchange import views

app_name = "imports"

urlpatterns = [
    path("", views.imports_page, name="page"),
    path("template.xlsx", views.import_template, name="template"),
    path("jobs/<str:token>/", views.import_job, name="job"),
]
