from django.urls import path

from infra.works import views_board

app_name = "board"

urlpatterns = [
    path("dashboard/", views_board.dashboard_view, name="dashboard"),
    path("works/<int:pk>/history/", views_board.work_history_view, name="work-history"),
]
