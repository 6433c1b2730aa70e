from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from minbar.accounts.models import ApiToken
from minbar.core.actor import Actor
from minbar.core.modules import MODULES_BY_KEY
from minbar.workspaces.access import WorkspaceAccess, memberships_of
from minbar.workspaces.decorators import workspace_view
from minbar.workspaces.models import Invitation
from minbar.workspaces.roles import ROLE_DESCRIPTIONS, has_perm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = memberships_of(request.user)  # type: ignore[arg-type]
    if memberships:
        return redirect("core:dashboard", slug=memberships[0].workspace.slug)
    return render(request, "core/no_workspace.html")


@workspace_view()
def dashboard(request: HttpRequest, access: WorkspaceAccess) -> HttpResponse:
    workspace = access.workspace
    user = request.user
    members = workspace.memberships.count()
    pending = Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True
    ).count()
    has_token = (
        ApiToken.objects.active().filter(user=access.membership.user, workspace=workspace).exists()
    )
    steps = [
        {"done": members > 1 or pending > 0, "label": "invite"},
        {"done": getattr(user, "has_two_factor", False), "label": "2fa"},
        {"done": has_token, "label": "token"},
    ]
    return render(
        request,
        "core/dashboard.html",
        {
            "workspace": workspace,
            "role_description": ROLE_DESCRIPTIONS[access.role],
            "member_count": members,
            "pending_invitations": pending,
            "steps": steps,
        },
    )


@workspace_view()
def module_page(request: HttpRequest, access: WorkspaceAccess, module: str) -> HttpResponse:
    found = MODULES_BY_KEY.get(module)
    if found is None:
        raise Http404
    if not has_perm(access.role, found.perm):
        raise Http404
    if found.url_name:
        return redirect(found.url_name, slug=access.workspace.slug)
    return render(request, "core/module.html", {"module": found})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; signed-in users keep it in their profile."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        from minbar.accounts.actions import update_profile

        update_profile(Actor.from_request(request), request.user, language=language)
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
    )
    return response


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        from huey.contrib.djhuey import HUEY

        HUEY.storage.queue_size()
        checks["queue"] = "ok"
    except Exception as exc:
        ok = False
        checks["queue"] = f"error: {type(exc).__name__}"
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )
