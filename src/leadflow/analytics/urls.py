from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("weekly/", views.weekly_latest, name="weekly-latest"),
    path("weekly/<int:team>/<str:week>/", views.weekly_page, name="weekly"),
    path("weekly/<int:team>/<str:week>/report.xlsx", views.weekly_workbook, name="weekly-xlsx"),
]
