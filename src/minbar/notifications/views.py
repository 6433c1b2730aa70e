from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from minbar.notifications.actions import mark_read
from minbar.notifications.models import Notification


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(
        Notification.objects.filter(user=request.user.pk).select_related("workspace"), 30
    ).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    mark_read(request.user)  # type: ignore[arg-type]
    return redirect("notifications:list")
