from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from leadflow.accounts.models import Role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.has_role(Role.SUPPORT) and not request.user.has_role(Role.ADMIN):
        return redirect("intake:queue")
    if request.user.has_role(Role.REP):
        return redirect("followups:day")  # a rep's day starts with what is due
    return redirect("leads:list")


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
