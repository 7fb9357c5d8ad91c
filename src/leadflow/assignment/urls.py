from django.urls import path

from . import views

app_name = "assignment"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("pool/", views.pool_view, name="pool"),
    path("assignment/", views.console, name="console"),
    path("assignment/run/", views.run_all, name="run"),
    path("assignment/rules/", views.rules, name="rules"),
    path("assignment/rules/new/", views.rule_edit, name="rule-new"),
    path("assignment/rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("assignment/rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("assignment/policy/", views.policy, name="policy"),
    path("leads/<str:number>/accept/", views.accept, name="accept"),
    path("leads/<str:number>/decline/", views.decline, name="decline"),
    path("leads/<str:number>/assign/", views.assign, name="assign"),
    path("leads/<str:number>/claim/", views.claim, name="claim"),
]
