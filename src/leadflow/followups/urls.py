from django.urls import path

from . import views

app_name = "followups"
urlpatterns = [
    path("my-day/", views.my_day, name="day"),
    path("board/", views.board, name="board"),
    path("reviews/", views.review_page, name="review"),
    path("follow-up-plans/", views.plans, name="plans"),
    path("reviews/<int:team>/<str:week>/close/", views.close_review, name="review-close"),
    path("reviews/<int:team>/<str:week>/<str:number>/", views.judge, name="judge"),
    path("leads/<str:number>/followups/", views.record, name="record"),
    path("leads/<str:number>/grade/", views.grade, name="grade"),
    path("leads/<str:number>/move/", views.move, name="move"),
    path("leads/<str:number>/tasks/", views.add_task, name="task-add"),
    path("leads/<str:number>/profile/", views.profile, name="profile"),
    path("leads/<str:number>/suggestions/<int:step>/", views.schedule, name="schedule"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
]
