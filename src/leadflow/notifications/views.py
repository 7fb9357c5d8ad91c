from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import services


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(services.inbox(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"active": "notifications", "page": page})


@login_required
def bell(request: HttpRequest) -> HttpResponse:
    return render(
        request, "notifications/_bell.html", {"unread": services.unread_count(request.user)}
    )


@login_required
@require_POST
def read(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    services.mark_read(request.user, now=timezone.now(), ids=ids)
    return redirect("notifications:list")


@login_required
def open_(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read."""
    row = get_object_or_404(services.inbox(request.user), pk=pk)
    services.mark_read(request.user, now=timezone.now(), ids=[row.pk])
    link = row.payload.get("link") or ""
    if link and url_has_allowed_host_and_scheme(link, {request.get_host()}):
        return redirect(link)
    return redirect("notifications:list")
