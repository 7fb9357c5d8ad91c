from django.urls import path

from . import views

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
]
