from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .api import api

urlpatterns = [
    # first: the resolver tries patterns in order, and the API takes the most requests
    path("api/v1/", api.urls),
    path("", include("leadflow.web.urls")),
    path("", include("leadflow.leads.urls")),
    path("", include("leadflow.intake.urls")),
    path("", include("leadflow.assignment.urls")),
    path("", include("leadflow.notifications.urls")),
    path("", include("leadflow.followups.urls")),
    path("", include("leadflow.analytics.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="web/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
