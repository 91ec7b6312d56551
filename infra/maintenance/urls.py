from django.urls import path

from infra.maintenance import views

app_name = "maintenance"

urlpatterns = [
    path("", views.plan_view, name="plan"),
    path("plan.xlsx", views.plan_xlsx_view, name="plan-xlsx"),
    path("plans/", views.plans_view, name="plans"),
    path("plans/<int:pk>/", views.saved_view, name="saved"),
    path("plans/<int:pk>.xlsx", views.saved_xlsx_view, name="saved-xlsx"),
    path("calendar.ics", views.calendar_view, name="calendar"),
    path("layer.geojson", views.layer_view, name="layer"),
    path("works/<int:pk>/", views.work_view, name="work"),
]
