from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/bell", views.bell, name="bell"),
    path("notifications/read/", views.read, name="read"),
    path("notifications/<int:pk>/", views.open_, name="open"),
]
