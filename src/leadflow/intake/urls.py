from django.urls import path

from . import import_views, views

app_name = "intake"
urlpatterns = [
    path("intake/new/", views.new_lead, name="new"),
    path("intake/check-duplicate/", views.check_duplicate, name="check"),
    path("intake/queue/", views.queue, name="queue"),
    path("intake/returned/", views.returned, name="returned"),
    path("intake/<str:number>/edit/", views.edit_lead, name="edit"),
    path("intake/<str:number>/approve/", views.approve, name="approve"),
    path("intake/<str:number>/return/", views.return_, name="return"),
    path("intake/<str:number>/restore/", views.restore, name="restore"),
    path("intake/<str:number>/merge/", views.merge, name="merge"),
    path("imports/", import_views.imports, name="imports"),
    path("imports/<int:pk>/", import_views.job_view, name="import-job"),
    path("imports/<int:pk>/mapping/", import_views.mapping, name="import-mapping"),
    path("imports/<int:pk>/preview/", import_views.preview_view, name="import-preview"),
    path("imports/<int:pk>/check/", import_views.check, name="import-check"),
    path("imports/<int:pk>/start/", import_views.start, name="import-start"),
    path("imports/<int:pk>/rejected.xlsx", import_views.rejected, name="import-rejected"),
    path("exports/leads.xlsx", import_views.export_leads, {"fmt": "xlsx"}, name="export-xlsx"),
    path("exports/leads.csv", import_views.export_leads, {"fmt": "csv"}, name="export-csv"),
]
